using System.Globalization;
using DistillSharp.Quantization.Observers;
using YamlDotNet.RepresentationModel;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// The <c>quantize:</c> section of a config. <c>recipe</c> names a <see cref="QuantRecipe"/>
/// (int8-dynamic, int8-static, int8-weight-only, …); the lower-level keys (aliases from the INT8
/// article in brackets) weight_bits [weight_bit], activation_bits [activation_bit], scheme
/// [quant_method] and mode say the same thing piece by piece and must agree with a named recipe.
/// observer [observer_type], percentile and calib_batches calibrate static recipes only; per_channel,
/// qat, freeze_observers_after. A key that would have no effect under the recipe is an error.
/// </summary>
public sealed record QuantizeConfig
{
    /// <summary>Allowed schemes.</summary>
    public static readonly IReadOnlyList<string> Schemes = ["symmetric", "asymmetric"];

    /// <summary>Allowed activation modes.</summary>
    public static readonly IReadOnlyList<string> Modes = QuantRecipes.ModeNames;

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
    /// <summary>"static", "dynamic" (per token) or "dynamic-per-tensor" activations.</summary>
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
        if (Qat && Mode != "static") throw Bad(path, "mode", Mode, "static when qat is true (QAT learns static activation ranges)");
        _ = QuantRecipes.Of(WeightBits, ActivationBits, ActivationMode, Scheme == "symmetric", path);
        return this;
    }

    /// <summary>The named recipe these settings make.</summary>
    public QuantRecipe Recipe => QuantRecipes.Of(WeightBits, ActivationBits, ActivationMode, Scheme == "symmetric");

    ActivationMode ActivationMode => QuantRecipes.ParseMode(Mode, "quantize.mode");

    /// <summary>Post-training quantization options.</summary>
    public PtqOptions ToPtqOptions() => new(WeightBits, ActivationBits, Scheme == "symmetric", Observer,
        new ObserverOptions(Percentile: Percentile), ActivationMode, CalibBatches);

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
                "recipe" => c,
                _ => throw new DistillSharpException($"unknown key {p}; known keys: recipe, weight_bits, activation_bits, scheme, observer, percentile, per_channel, qat, mode, calib_batches, freeze_observers_after (aliases: {string.Join(", ", Aliases.Keys)})"),
            };
        }
        if (seen.TryGetValue("recipe", out var recipeKey))
            c = WithRecipe(c, QuantRecipes.Get(map[recipeKey] ?? "", $"{path}.recipe"), seen, path);
        c = c.Validate(path);
        CheckEffects(c, seen, path);
        return c;
    }

    // The recipe's settings; a lower-level key given next to it must say the same.
    static QuantizeConfig WithRecipe(QuantizeConfig c, QuantRecipe r, Dictionary<string, string> seen, string path)
    {
        var fromRecipe = new QuantizeConfig
        {
            WeightBits = r.WeightBits, ActivationBits = r.ActivationBits,
            Scheme = r.QuantizesActivations ? (r.ActivationSymmetric ? "symmetric" : "asymmetric") : c.Scheme,
            Mode = r.QuantizesActivations ? QuantRecipes.ModeName(r.Mode) : c.Mode,
        };
        void Agree(string key, object given, object wanted)
        {
            if (seen.TryGetValue(key, out var raw) && !Equals(given, wanted))
                throw new DistillSharpException($"{path}.{raw} is '{given}' but {path}.recipe {r.Name} has {wanted}; drop one of them");
        }
        Agree("weight_bits", c.WeightBits, fromRecipe.WeightBits);
        Agree("activation_bits", c.ActivationBits, fromRecipe.ActivationBits);
        if (r.QuantizesActivations)
        {
            Agree("scheme", c.Scheme, fromRecipe.Scheme);
            Agree("mode", c.Mode, fromRecipe.Mode);
        }
        return c with { WeightBits = fromRecipe.WeightBits, ActivationBits = fromRecipe.ActivationBits, Scheme = fromRecipe.Scheme, Mode = fromRecipe.Mode };
    }

    // A key that the recipe never reads is a mistake in the config, not a silent no-op.
    static void CheckEffects(QuantizeConfig c, Dictionary<string, string> seen, string path)
    {
        var r = c.Recipe;
        string why = !r.QuantizesActivations ? "activations stay float"
            : r.Mode == ActivationMode.Static ? "" : "activation scales are computed at run time, nothing is calibrated";
        void NoEffect(string key, string reason)
        {
            if (seen.TryGetValue(key, out var raw))
                throw new DistillSharpException($"{path}.{raw} has no effect with recipe {r.Name} ({reason}); drop it" +
                    (r.QuantizesActivations && r.Mode != ActivationMode.Static ? " or choose a static recipe (e.g. int8-static)" : ""));
        }
        if (!r.Calibrates && !c.Qat)
            foreach (var key in new[] { "observer", "percentile", "calib_batches" }) NoEffect(key, why);
        if (!r.QuantizesActivations) NoEffect("scheme", why);
        if (c.Observer != "percentile") NoEffect("percentile", $"it is the percentile observer's setting and the observer is {c.Observer}");
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
