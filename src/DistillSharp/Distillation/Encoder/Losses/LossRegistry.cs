using DistillSharp.Distillation.Divergences;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>A registered loss: its name, one line of help, its options and its factory.</summary>
/// <param name="Name">Registry key, as written in configs.</param>
/// <param name="Summary">One line for humans.</param>
/// <param name="Parameters">The options besides <c>weight</c>.</param>
/// <param name="Create">Builds the term from validated settings and the models' shapes.</param>
public sealed record LossDefinition(string Name, string Summary, IReadOnlyList<LossParameter> Parameters,
    Func<LossSettings, LossContext, ILossTerm> Create)
{
    /// <summary>The option keys, in declaration order.</summary>
    public IEnumerable<string> Keys => Parameters.Select(p => p.Key);

    /// <summary>Settings with defaults, overridden by <paramref name="overrides"/> (validated).</summary>
    public LossSettings Settings(params (string Key, object Value)[] overrides)
    {
        var values = Parameters.ToDictionary(p => p.Key, p => p.Default);
        foreach (var (key, value) in overrides)
        {
            var p = Parameters.FirstOrDefault(x => x.Key == key)
                ?? throw new ConfigException($"{Name}.{key}", $": unknown option '{key}'; valid keys: weight{string.Concat(Keys.Select(k => ", " + k))}");
            values[key] = p.Validate(value, $"{Name}.{key}");
        }
        return new LossSettings(Name, values);
    }

    /// <summary>Builds the term with <see cref="Settings"/>.</summary>
    public ILossTerm Build(LossContext context, params (string Key, object Value)[] overrides) => Create(Settings(overrides), context);
}

/// <summary>
/// Every loss term by config name — one row each. Unknown names fail with the list of known ones.
/// </summary>
public static class LossRegistry
{
    static readonly LayerMapParameter LayerMapOption = new("layer_map", LayerMap.Uniform, "which student layer learns from which teacher layer");
    static readonly ChoiceParameter ProjectionOption = new("projection", "auto", WidthProjection.Modes,
        "auto: learned Linear only when widths differ; always: learned Linear even when they match");
    static DoubleParameter Temperature(double d) => DoubleParameter.Positive("temperature", d, "softmax temperature T");
    static IntParameter Layer(string key, string side) => new(key, -1, int.MinValue, $"{side} layer (0-based; negative counts from the last)");

    /// <summary>One logit loss per divergence (the names and option ranges token KD uses too).</summary>
    static LossDefinition Logit(string name, (string Summary, string[] Options, Func<DivergenceSpec, Divergence> Create) d) =>
        new(name, $"T²·{d.Summary} on tempered logits",
            [.. d.Options.Select(o => o == "beta"
                ? new DoubleParameter("beta", 0.5, 0, 1, true, true, "teacher weight β in M = βP + (1−β)Q; 0 = forward KL, 1 = reverse KL")
                : new DoubleParameter("alpha", 0.1, 0, 1, true, false, "skew α: share of the first distribution mixed into the second")),
             Temperature(1.0)],
            (s, _) => new LogitDivergenceLoss(d.Create(new DivergenceSpec(name,
                d.Options.Contains("beta") ? s.Double("beta") : 0.5, d.Options.Contains("alpha") ? s.Double("alpha") : 0.1)),
                s.Double("temperature"), name));

    /// <summary>All loss definitions, by name.</summary>
    public static readonly IReadOnlyDictionary<string, LossDefinition> All = DivergenceRegistry.All.Select(kv => Logit(kv.Key, kv.Value)).Concat(new[]
    {
        new LossDefinition("logit_mse", "MSE between student and teacher logits",
            [], (_, _) => new LogitMseLoss()),
        new LossDefinition("ce", "task cross-entropy against labels, with label smoothing and optional class weights",
            [new DoubleParameter("label_smoothing", 0.0, 0, 1, true, false, "ε"),
             new ChoiceParameter("class_weights", "none", TaskCrossEntropyLoss.WeightModes,
                 "none; balanced: w_c = N / (C·n_c); sqrt: w_c ∝ 1/√n_c (n_c: class c's labelled training texts)")],
            (s, c) => new TaskCrossEntropyLoss(s.Double("label_smoothing"), s.String("class_weights") is "none" ? null
                : TaskCrossEntropyLoss.Weights(s.String("class_weights"), c.ClassCounts
                    ?? throw new DistillSharpException($"loss 'ce': class_weights: {s.String("class_weights")} needs labelled training texts, and this corpus has none")))),
        new LossDefinition("contrastive", "in-batch InfoNCE over (anchor, positive) pairs; optional teacher soft targets",
            [Temperature(0.05), new DoubleParameter("teacher_mix", 0.0, 0, 1, true, true, "α: weight of the teacher's in-batch similarity targets"),
             new BoolParameter("symmetric", false, "also score positives against anchors")],
            (s, _) => new ContrastiveLoss(s.Double("temperature"), s.Double("teacher_mix"), s.Bool("symmetric"))),
        new LossDefinition("embedding_mse", "MSE between pooled embeddings (learned projection if widths differ)",
            [ProjectionOption], (s, c) => new EmbeddingMseLoss(c.Student.Hidden, c.Teacher.Hidden, s.String("projection"))),
        new LossDefinition("embedding_cosine", "1 − cos between pooled embeddings (learned projection if widths differ)",
            [ProjectionOption], (s, c) => new EmbeddingCosineLoss(c.Student.Hidden, c.Teacher.Hidden, s.String("projection"))),
        new LossDefinition("hidden_mse", "MSE between mapped hidden states through learned projections (TinyBERT)",
            [LayerMapOption, new BoolParameter("include_embeddings", false, "also match the embedding outputs (0 ↔ 0)"), ProjectionOption],
            (s, c) => new HiddenMseLoss(c, s.LayerMap("layer_map"), s.Bool("include_embeddings"), s.String("projection"))),
        new LossDefinition("attention_weighted", "the article's sigmoid-weighted attention MSE through a Linear(T, T) (constant weight, see docs)",
            [LayerMapOption, new ChoiceParameter("projection_init", "default", ["default", "identity"], "default: PyTorch Linear init; identity: W = I, b = 0")],
            (s, c) => new AttentionWeightedLoss(c, s.LayerMap("layer_map"), s.String("projection_init"))),
        new LossDefinition("attention_peaked", "attention MSE weighted by 1 − H(row)/log L of the teacher row",
            [LayerMapOption], (s, c) => new AttentionPeakedLoss(c, s.LayerMap("layer_map"))),
        new LossDefinition("attention_mse", "MSE between one layer pair's attention probabilities (TinyBERT attention term)",
            [Layer("layer", "student"), Layer("teacher_layer", "teacher")],
            (s, c) => new AttentionMseLoss(c, s.Int("layer"), s.Int("teacher_layer"))),
        new LossDefinition("minilm_attention", "MiniLM: KL of per-head attention distributions (Wang 2020)",
            [Layer("layer", "student"), Layer("teacher_layer", "teacher")],
            (s, c) => new MiniLmAttentionLoss(c, s.Int("layer"), s.Int("teacher_layer"))),
        new LossDefinition("minilm_value", "MiniLM: KL of value relations softmax(V Vᵀ/√d) (Wang 2020)",
            [Layer("layer", "student"), Layer("teacher_layer", "teacher"), new IntParameter("relation_heads", 0, 0, "0: the models' own heads (must match); R: split into R relation heads")],
            (s, c) => new MiniLmValueLoss(c, s.Int("layer"), s.Int("teacher_layer"), s.Int("relation_heads"))),
        new LossDefinition("minilm_relation", "MiniLMv2: KL of Q-Q/K-K/V-V multi-head relations; head counts may differ (Wang 2021)",
            [Layer("layer", "student"), Layer("teacher_layer", "teacher"), new IntParameter("relation_heads", 0, 0, "R relation heads; 0: the teacher's head count"),
             new ChoiceListParameter("relations", MiniLmRelationLoss.RelationNames, MiniLmRelationLoss.RelationNames, "which relations to sum")],
            (s, c) => new MiniLmRelationLoss(c, s.Int("layer"), s.Int("teacher_layer"), s.Int("relation_heads"), s.Strings("relations"))),
        new LossDefinition("matryoshka", "KL of in-batch similarity rows: the teacher's at full width, the student's in its first d teacher-PCA directions",
            [new IntListParameter("dims", [128, 64], 1, "prefix widths d, each <= the pooled width"), Temperature(0.05),
             new BoolParameter("centre", true, "centre the student on the fitted mean before the rotation (as embedding-compression does)"),
             new IntParameter("fit_texts", 4000, 2, "texts of the stage's first batches whose teacher embeddings fit the basis")],
            (s, c) => new MatryoshkaLoss(c.Student.Hidden, c.Teacher.Hidden, s.Ints("dims"), s.Double("temperature"), s.Bool("centre"), s.Int("fit_texts"))),
    }).ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>The known names, comma-separated, in registry order.</summary>
    public static string KnownNames => string.Join(", ", All.Keys);

    /// <summary>Looks a loss up; unknown names list the known ones.</summary>
    public static LossDefinition Get(string name) =>
        All.TryGetValue(name, out var d) ? d : throw new DistillSharpException($"unknown loss '{name}'; known: {KnownNames}");

    /// <summary>Builds the term a config entry describes.</summary>
    public static ILossTerm Create(LossSpec spec, LossContext context) => Get(spec.Name).Create(spec.Settings, context);
}

/// <summary>One entry of a stage's <c>losses:</c> — which term, its weight and its options.</summary>
/// <param name="Name">Registry name.</param>
/// <param name="Weight">Multiplier in the stage's weighted sum (≥ 0).</param>
/// <param name="Settings">Validated options, defaults filled in.</param>
public sealed record LossSpec(string Name, double Weight, LossSettings Settings);
