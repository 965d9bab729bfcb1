using DistillSharp.Quantization.Observers;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config.Encoder;

/// <summary>
/// The <c>qat:</c> block of a stage: the stage trains the student with every Linear replaced by a
/// fake-quantized one (straight-through gradients) while its losses — the teacher's — still apply.
/// Bit widths and the activation scheme come from the <c>quantize:</c> section, so the exported
/// model is the one the rest of the pipeline expects.
/// </summary>
/// <param name="LearnRanges">"ema": activation ranges follow a moving average of each batch's min/max;
/// "lsq": the activation scale is a trained parameter (Esser et al. 2020).</param>
/// <param name="Observer">Observer that calibrates the activation ranges before the first QAT step
/// (any <see cref="ObserverRegistry"/> name), or null: ranges start from the first training batch.</param>
/// <param name="FreezeObserversAfter">Stage step after which the EMA ranges stop moving (ema only); null = never.</param>
/// <param name="Momentum">EMA weight of the old range, in [0, 1).</param>
/// <param name="CalibBatches">Training batches the observer sees before the stage (with <paramref name="Observer"/>).</param>
public sealed record QatConfig(string LearnRanges = "ema", string? Observer = null, int? FreezeObserversAfter = null,
    double Momentum = 0.99, int CalibBatches = 8)
{
    /// <summary>Allowed values of <see cref="LearnRanges"/>.</summary>
    public static readonly string[] RangeMethods = ["ema", "lsq"];

    /// <summary>Binds a stage's <c>qat:</c> mapping; <paramref name="stageSteps"/> bounds freeze_observers_after when known.</summary>
    public static QatConfig Bind(MappingReader r, int? stageSteps)
    {
        var d = new QatConfig();
        var learn = r.Choice("learn_ranges", d.LearnRanges, RangeMethods);
        string? observer = null;
        if (r.Node("observer") is { } o)
        {
            observer = YamlValues.String(o, r.PathOf("observer"));
            if (!ObserverRegistry.Contains(observer))
                throw new ConfigException(r.PathOf("observer"), $"is '{observer}'; known observers: {string.Join(", ", ObserverRegistry.Names)}");
        }
        var freeze = r.OptionalInt("freeze_observers_after", v => v >= 0, ">= 0");
        if (freeze is int f && learn == "lsq")
            throw new ConfigException(r.PathOf("freeze_observers_after"), $"applies to learn_ranges: ema only (LSQ scales train with the weights), got {f} with learn_ranges: lsq");
        if (freeze is int f2 && stageSteps is int steps && f2 >= steps)
            throw new ConfigException(r.PathOf("freeze_observers_after"), $"must be below the stage's steps ({steps}), got {f2}");
        var momentum = r.Double("momentum", d.Momentum, v => v >= 0 && v < 1, "in [0, 1)");
        var calib = r.Int("calib_batches", d.CalibBatches, v => v >= 1, ">= 1");
        if (observer is null && r.Node("calib_batches") is not null)
            throw new ConfigException(r.PathOf("calib_batches"), "is set but no observer is; name one (e.g. observer: percentile) or drop calib_batches");
        r.RejectUnknown();
        return new QatConfig(learn, observer, freeze, momentum, calib);
    }

    /// <summary>The block as YAML (what <see cref="Bind"/> reads back).</summary>
    public YamlMappingNode ToYaml()
    {
        var map = new YamlMappingNode { { "learn_ranges", LearnRanges } };
        if (Observer is { } o) map.Add("observer", o);
        if (FreezeObserversAfter is { } f) map.Add("freeze_observers_after", YamlValues.Scalar(f));
        map.Add("momentum", YamlValues.Scalar(Momentum));
        if (Observer is not null) map.Add("calib_batches", YamlValues.Scalar(CalibBatches));
        map.Style = YamlDotNet.Core.Events.MappingStyle.Flow;
        return map;
    }

    /// <summary>
    /// Resolves the stages' <c>qat:</c> blocks against each other and the raw <c>quantize:</c> section:
    /// only the last stage may quantize-aware train (its export is the INT8 model);
    /// <c>quantize.qat: true</c> gives the last stage the default block when it has none, and
    /// <c>quantize.qat: false</c> contradicts a stage block; QAT needs static activations.
    /// </summary>
    public static IReadOnlyList<StageConfig> Resolve(IReadOnlyList<StageConfig> stages, IReadOnlyDictionary<string, object?> quantize)
    {
        for (var i = 0; i < stages.Count - 1; i++)
            if (stages[i].Qat is not null)
                throw new ConfigException($"stages[{i}].qat", $"is allowed on the last stage only (stages[{stages.Count - 1}]); a later float stage would undo what QAT learned");
        var last = stages.Count - 1;
        if (quantize.ContainsKey("freeze_observers_after"))
            throw new ConfigException("quantize.freeze_observers_after", $"is a stage setting: QAT runs in a stage, so set stages[{last}].qat.freeze_observers_after (counted in that stage's steps)");
        var flag = quantize.TryGetValue("qat", out var q) ? q?.ToString()?.ToLowerInvariant() : null;
        if (flag == "false" && stages[last].Qat is not null)
            throw new ConfigException($"stages[{last}].qat", "is set but quantize.qat is false; drop one of them");
        if (flag == "true" && stages[last].Qat is null)
            stages = [.. stages.Take(last), stages[last] with { Qat = new QatConfig() }];
        if (stages[last].Qat is not null && quantize.TryGetValue("mode", out var mode) && mode?.ToString() == "dynamic")
            throw new ConfigException($"stages[{last}].qat", "needs quantize.mode: static (QAT learns static per-tensor activation ranges), got quantize.mode: dynamic");
        return stages;
    }
}
