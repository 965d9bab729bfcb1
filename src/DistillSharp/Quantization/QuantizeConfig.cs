using System.Globalization;
using DistillSharp.Quantization.Observers;
using YamlDotNet.RepresentationModel;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// The <c>quantize:</c> section of a config. Keys (aliases from the INT8 article in brackets):
/// weight_bits [weight_bit], activation_bits [activation_bit], scheme [quant_method],
/// observer [observer_type], percentile, per_channel, qat, mode, calib_batches,
/// freeze_observers_after.
/// </summary>
public sealed record QuantizeConfig
{
    /// <summary>Allowed schemes.</summary>
    public static readonly IReadOnlyList<string> Schemes = ["symmetric", "asymmetric"];

    /// <summary>Allowed activation modes.</summary>
    public static readonly IReadOnlyList<string> Modes = ["static", "dynamic"];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["weight_bit"] = "weight_bits", ["activation_bit"] = "activation_bits",
        ["quant_method"] = "scheme", ["observer_type"] = "observer",
    };

    /// <summary>8 or 4.</summary>
    public int WeightBits { get; init; } = 8;
    /// <summary>8, or 0 for weight-only.</summary>
    public int ActivationBits { get; init; } = 8;
    /// <summary>"symmetric" (int8 [-127, 127]) or "asymmetric" (uint8 [0, 255] + zero point), for activations.</summary>
    public string Scheme { get; init; } = "symmetric";
    /// <summary>Activation observer name (see <see cref="ObserverRegistry"/>).</summary>
    public string Observer { get; init; } = "percentile";
    /// <summary>Percentile for the percentile observer, in (0, 100].</summary>
    public double Percentile { get; init; } = 99.99;
    /// <summary>Per-output-channel weight scales (the only layout the INT8 runtime takes).</summary>
    public bool PerChannel { get; init; } = true;
    /// <summary>Quantization-aware training instead of post-training quantization only.</summary>
    public bool Qat { get; init; }
    /// <summary>"static" or "dynamic" activations.</summary>
    public string Mode { get; init; } = "static";
    /// <summary>Calibration batches (≥ 1).</summary>
    public int CalibBatches { get; init; } = 32;
    /// <summary>QAT step after which observers freeze, or null to never freeze.</summary>
    public int? FreezeObserversAfter { get; init; }

    /// <summary>Checks every field; errors name <paramref name="path"/>.field and the allowed values.</summary>
    public QuantizeConfig Validate(string path = "quantize")
    {
        if (WeightBits is not (8 or 4)) throw Bad(path, "weight_bits", WeightBits, "8, 4");
        if (ActivationBits is not (8 or 0)) throw Bad(path, "activation_bits", ActivationBits, "8, 0 (weight-only)");
        if (!Schemes.Contains(Scheme)) throw Bad(path, "scheme", Scheme, string.Join(", ", Schemes));
        if (!ObserverRegistry.Contains(Observer)) throw Bad(path, "observer", Observer, string.Join(", ", ObserverRegistry.Names));
        if (!(Percentile > 0 && Percentile <= 100)) throw Bad(path, "percentile", Percentile, "a number in (0, 100]");
        if (!PerChannel) throw Bad(path, "per_channel", false, "true (the INT8 runtime takes per-output-channel weight scales only)");
        if (!Modes.Contains(Mode)) throw Bad(path, "mode", Mode, string.Join(", ", Modes));
        if (CalibBatches < 1) throw Bad(path, "calib_batches", CalibBatches, "an integer ≥ 1");
        if (FreezeObserversAfter is < 0) throw Bad(path, "freeze_observers_after", FreezeObserversAfter, "an integer ≥ 0 or absent");
        if (Qat && Mode == "dynamic") throw Bad(path, "mode", Mode, "static when qat is true (QAT learns static activation ranges)");
        return this;
    }

    /// <summary>Post-training quantization options.</summary>
    public PtqOptions ToPtqOptions() => new(WeightBits, ActivationBits, Scheme == "symmetric", Observer,
        new ObserverOptions(Percentile: Percentile), Mode == "static" ? ActivationMode.Static : ActivationMode.Dynamic, CalibBatches);

    /// <summary>QAT options (EMA activation observer).</summary>
    public FakeQuantOptions ToFakeQuantOptions() => new(WeightBits, ActivationBits, Scheme == "symmetric");

    /// <summary>Parses the YAML mapping of a <c>quantize:</c> section (the mapping itself, not the whole file).</summary>
    public static QuantizeConfig FromYaml(string yaml, string path = "quantize")
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
            throw new DistillSharpException($"{path} must be a mapping of keys to values");
        return FromMap(map.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? "",
            kv => (kv.Value as YamlScalarNode)?.Value), path);
    }

    /// <summary>Builds and validates a config from key → scalar text; aliases are accepted, unknown keys listed.</summary>
    public static QuantizeConfig FromMap(IReadOnlyDictionary<string, string?> map, string path = "quantize")
    {
        var c = new QuantizeConfig();
        var seen = new Dictionary<string, string>();
        foreach (var (rawKey, value) in map)
        {
            var key = Aliases.GetValueOrDefault(rawKey, rawKey);
            if (seen.TryGetValue(key, out var first))
                throw new DistillSharpException($"{path}.{rawKey} repeats {path}.{first} (they are the same setting)");
            seen[key] = rawKey;
            var p = $"{path}.{rawKey}";
            c = key switch
            {
                "weight_bits" => c with { WeightBits = ParseInt(p, value) },
                "activation_bits" => c with { ActivationBits = ParseInt(p, value) },
                "scheme" => c with { Scheme = value ?? "" },
                "observer" => c with { Observer = value ?? "" },
                "percentile" => c with { Percentile = ParseDouble(p, value) },
                "per_channel" => c with { PerChannel = ParseBool(p, value) },
                "qat" => c with { Qat = ParseBool(p, value) },
                "mode" => c with { Mode = value ?? "" },
                "calib_batches" => c with { CalibBatches = ParseInt(p, value) },
                "freeze_observers_after" => c with { FreezeObserversAfter = string.IsNullOrEmpty(value) || value == "null" ? null : ParseInt(p, value) },
                _ => throw new DistillSharpException($"unknown key {p}; known keys: weight_bits, activation_bits, scheme, observer, percentile, per_channel, qat, mode, calib_batches, freeze_observers_after (aliases: {string.Join(", ", Aliases.Keys)})"),
            };
        }
        return c.Validate(path);
    }

    private static int ParseInt(string p, string? v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw Bad(p, v, "an integer");

    private static double ParseDouble(string p, string? v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw Bad(p, v, "a number");

    private static bool ParseBool(string p, string? v) =>
        bool.TryParse(v, out var b) ? b : throw Bad(p, v, "true, false");

    private static DistillSharpException Bad(string path, string field, object? value, string allowed) => Bad($"{path}.{field}", value, allowed);

    private static DistillSharpException Bad(string fullPath, object? value, string allowed) =>
        new($"{fullPath} is '{value}'; allowed: {allowed}");
}
