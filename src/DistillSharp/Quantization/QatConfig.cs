using DistillSharp.Quantization.Observers;
using YamlDotNet.RepresentationModel;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Quantization;

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
}
