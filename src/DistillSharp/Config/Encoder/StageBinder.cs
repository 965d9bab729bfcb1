using DistillSharp.Distillation.Encoder.Losses;
using YamlDotNet.RepresentationModel;
using DistillSharp.Distillation;
using DistillSharp.Config.Yaml;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Quantization;

namespace DistillSharp.Config.Encoder;

/// <summary>
/// Binds one <c>stages[i]</c> mapping: losses (each <c>name: weight</c> or
/// <c>name: {weight: …, option: …}</c>, options checked against the <see cref="LossRegistry"/>),
/// optimizer, schedule, accumulation, clipping, trained layers, intervals and quantization-aware
/// training (<see cref="QatConfig"/>).
/// </summary>
public static class StageBinder
{
    /// <summary>Binds the stage at <paramref name="path"/>.</summary>
    public static StageConfig Bind(YamlNode node, string path, StudentConfig student)
    {
        var r = new MappingReader(node, path);
        var name = ConfigBinder.NonEmpty(r.Required("name"), r.PathOf("name"));
        var epochs = r.OptionalInt("epochs", v => v >= 1, ">= 1");
        var steps = r.OptionalInt("steps", v => v >= 1, ">= 1");
        if ((epochs is null) == (steps is null))
            throw new ConfigException(path, epochs is null
                ? "must set exactly one of epochs and steps, got neither"
                : $"must set exactly one of epochs and steps, got both (epochs {epochs}, steps {steps})");
        var losses = BindLosses(r.Required("losses"), r.PathOf("losses"));
        var stage = new StageConfig
        {
            Name = name,
            Epochs = epochs,
            Steps = steps,
            Losses = losses,
            Optimizer = r.Mapping("optimizer") is { } o ? BindOptimizer(o) : new OptimizerConfig(),
            Schedule = r.Mapping("schedule") is { } s ? BindSchedule(s) : new ScheduleConfig(),
            Accumulate = r.Int("accumulate", 1, v => v >= 1, ">= 1"),
            ClipGradNorm = r.OptionalDouble("clip_grad_norm", v => v > 0, "> 0"),
            TrainLayers = r.Node("train_layers") is { } t ? TrainLayers.Parse(t, r.PathOf("train_layers"), student.Layers) : TrainLayers.Everything,
            Batch = r.OptionalInt("batch", v => v >= 1, ">= 1"),
            CheckpointEvery = r.Int("checkpoint_every", 0, v => v >= 0, ">= 0 (0 = only at the end of the stage)"),
            LogEvery = r.Int("log_every", 10, v => v >= 1, ">= 1"),
            Qat = r.Mapping("qat") is { } q ? QatConfig.Bind(q, steps) : null,
        };
        r.RejectUnknown();
        return stage;
    }

    /// <summary>Binds a <c>losses:</c> mapping.</summary>
    public static IReadOnlyList<LossSpec> BindLosses(YamlNode node, string path)
    {
        var r = new MappingReader(node, path);
        var specs = new List<LossSpec>();
        foreach (var name in r.Keys.ToList())
        {
            var lossPath = r.PathOf(name);
            if (!LossRegistry.All.TryGetValue(name, out var definition))
                throw new ConfigException(lossPath, $": unknown loss '{name}'; known: {LossRegistry.KnownNames}");
            var value = r.Node(name) ?? throw new ConfigException(lossPath, "must be a weight or a mapping with weight and options, got null");
            specs.Add(BindLoss(definition, value, lossPath));
        }
        if (specs.Count == 0) throw new ConfigException(path, $"must name at least one loss; known: {LossRegistry.KnownNames}");
        if (specs.All(s => s.Weight == 0))
            throw new ConfigException(path, "must give at least one loss a weight > 0, got all weights 0");
        return specs;
    }

    static LossSpec BindLoss(LossDefinition definition, YamlNode node, string path)
    {
        if (node is YamlScalarNode)
            return new LossSpec(definition.Name, Weight(node, path), definition.Settings());
        var r = new MappingReader(node, path);
        var weight = r.Node("weight") is { } w ? Weight(w, r.PathOf("weight")) : 1.0;
        var values = new Dictionary<string, object>();
        foreach (var p in definition.Parameters)
            values[p.Key] = r.Node(p.Key) is { } v ? p.Parse(v, r.PathOf(p.Key)) : p.Default;
        r.RejectUnknown();
        return new LossSpec(definition.Name, weight, definition.Settings(values.Select(kv => (kv.Key, kv.Value)).ToArray()));
    }

    static double Weight(YamlNode node, string path)
    {
        var w = YamlValues.Double(node, path);
        return YamlValues.Check(w, w >= 0, path, ">= 0");
    }

    static OptimizerConfig BindOptimizer(MappingReader r)
    {
        var d = new OptimizerConfig();
        var name = r.Choice("name", d.Name, OptimizerConfig.Names);
        var lr = r.Double("lr", d.Lr, v => v > 0, "> 0");
        var (b1, b2) = (d.Beta1, d.Beta2);
        if (r.Node("betas") is { } betas)
        {
            var path = r.PathOf("betas");
            var items = YamlValues.Items(betas, path)
                .Select(x => YamlValues.Double(x.Node, x.Path) is var v && v is >= 0 and < 1 ? v
                    : throw new ConfigException(x.Path, $"must be in [0, 1), got {YamlValues.Format(v)}"))
                .ToList();
            if (items.Count != 2) throw new ConfigException(path, $"must be a pair [beta1, beta2], got {items.Count} values");
            (b1, b2) = (items[0], items[1]);
        }
        var eps = r.Double("eps", d.Eps, v => v > 0, "> 0");
        var wd = r.Double("weight_decay", d.WeightDecay, v => v >= 0, ">= 0");
        r.RejectUnknown();
        return new OptimizerConfig(name, lr, b1, b2, eps, wd);
    }

    static ScheduleConfig BindSchedule(MappingReader r)
    {
        var name = r.Choice("name", "cosine", ScheduleConfig.Names);
        double fraction = 0;
        int? steps = null;
        if (r.Node("warmup") is YamlScalarNode w)
        {
            var path = r.PathOf("warmup");
            var v = YamlValues.Double(w, path);
            if (v >= 0 && v < 1) fraction = v;
            else if (v >= 1 && v == Math.Floor(v) && v <= int.MaxValue) steps = (int)v;
            else throw new ConfigException(path, $"must be a fraction of the stage in [0, 1) or a whole number of steps >= 1, got {w.Value}");
        }
        else if (r.Node("warmup") is { } other)
            throw new ConfigException(r.PathOf("warmup"), $"must be a fraction in [0, 1) or a number of steps, got {YamlValues.Describe(other)}");
        r.RejectUnknown();
        return new ScheduleConfig(name, fraction, steps);
    }
}
