using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using static DistillSharp.Tests.Distillation.LossTestKit;
using TorchSharp;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class LossRegistryTests
{
    static readonly string[] Required =
    [
        "forward_kl", "kl", "reverse_kl", "jsd", "skew_kl", "skew_reverse_kl", "logit_mse", "ce", "contrastive", "embedding_mse", "embedding_cosine",
        "hidden_mse", "attention_weighted", "attention_peaked", "attention_mse", "minilm_attention", "minilm_value", "minilm_relation", "matryoshka",
    ];

    // matryoshka's basis is the teacher's principal directions: it needs the teacher's width on the
    // student side too, and a fit before it computes (MatryoshkaLossTests checks it in detail).
    static ILossTerm Build(LossDefinition d, LossContext ctx)
    {
        if (d.Name != "matryoshka") return d.Build(ctx);
        var term = (ITeacherFittedTerm)d.Build(ctx with { Student = ctx.Teacher }, ("dims", new[] { 4, 2 }));
        manual_seed(9);
        term.Fit(Enumerable.Range(0, 8).Select(_ => torch.randn(ctx.Teacher.Hidden).data<float>().ToArray()).ToList());
        return term;
    }

    static ModelOutput Full(int seed, int layers, int hidden, int heads, Tensor mask, bool grad = false)
    {
        manual_seed(seed);
        Tensor randn(params long[] shape) => torch.randn(shape, requires_grad: grad);
        var (b, t, d) = (2, 3, hidden / heads);
        Tensor[] PerLayer(int n) => Enumerable.Range(0, n).Select(_ => randn(b, heads, t, d)).ToArray();
        return new ModelOutput
        {
            AttentionMask = mask,
            HiddenStates = Enumerable.Range(0, layers + 1).Select(_ => randn(b, t, hidden)).ToArray(),
            Attentions = Enumerable.Range(0, layers).Select(_ => SoftmaxAttention(torch.randn(b, heads, t, t), mask).requires_grad_(grad)).ToArray(),
            Queries = PerLayer(layers), Keys = PerLayer(layers), Values = PerLayer(layers),
            Pooled = randn(b, hidden), Logits = randn(b, 3),
        };
    }

    [Fact]
    public void RegistryHasEveryTermAndEachComputesAFiniteLossWithDefaults()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(Required, LossRegistry.All.Keys);
        var ctx = Context(layersS: 2, layersT: 4, hiddenS: 4, hiddenT: 6, headsS: 2, headsT: 2, maxLen: 3);
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var student = Full(1, 2, 4, 2, mask);
        var wideStudent = Full(7, 2, 6, 2, mask);
        var teacher = Full(2, 4, 6, 2, mask);
        var batch = new LossBatch { AttentionMask = mask, Labels = tensor(new long[] { 0, 2 }), Pairs = tensor(new long[] { 0, 1 }, [1, 2]) };
        foreach (var definition in LossRegistry.All.Values)
        {
            var term = Build(definition, ctx);
            Assert.Equal(definition.Name, term.Name);
            var result = term.Compute(definition.Name == "matryoshka" ? wideStudent : student, teacher, batch);
            Assert.True(double.IsFinite(Item(result.Loss)), definition.Name);
            Assert.Equal(Item(result.Loss), result.Scalars[definition.Name], 6);
            Assert.Empty(result.Loss.shape);
        }
    }

    [Fact]
    public void TermsLeaveNoLiveTensorsBehindTheirStepScope()
    {
        using var outer = NewDisposeScope();
        var ctx = Context(layersS: 2, layersT: 4, hiddenS: 4, hiddenT: 6, headsS: 2, headsT: 2, maxLen: 3);
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var student = Full(3, 2, 4, 2, mask, grad: true);
        var wideStudent = Full(8, 2, 6, 2, mask, grad: true);
        var teacher = Full(4, 4, 6, 2, mask);
        var batch = new LossBatch { AttentionMask = mask, Labels = tensor(new long[] { 1, 0 }), Pairs = tensor(new long[] { 1, 0 }, [1, 2]) };
        var terms = LossRegistry.All.Values.Select(d => Build(d, ctx)).ToList();
        void Step()
        {
            using var step = NewDisposeScope();
            terms.Select(term => term.Compute(term.Name == "matryoshka" ? wideStudent : student, teacher, batch).Loss).Aggregate((a, b) => a + b).backward();
        }
        Step();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++) Step();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void UnknownNamesAndOptionsListTheKnownOnes()
    {
        var e = Assert.Throws<DistillSharpException>(() => LossRegistry.Get("klx"));
        Assert.Equal($"unknown loss 'klx'; known: {string.Join(", ", Required)}", e.Message);
        var o = Assert.Throws<DistillSharp.Config.Yaml.ConfigException>(() => LossRegistry.Get("kl").Settings(("temp", 2.0)));
        Assert.Equal("kl.temp: unknown option 'temp'; valid keys: weight, temperature", o.Message);
        var v = Assert.Throws<DistillSharp.Config.Yaml.ConfigException>(() => LossRegistry.Get("jsd").Settings(("beta", 1.5)));
        Assert.Equal("jsd.beta must be in [0, 1], got 1.5", v.Message);
    }

    [Fact]
    public void NeedsAreTheUnionOfTheStageTerms()
    {
        var ctx = Context(layersS: 2, layersT: 4);
        ILossTerm[] terms =
        [
            LossRegistry.Get("kl").Build(ctx),
            LossRegistry.Get("hidden_mse").Build(ctx, ("include_embeddings", true)),
            LossRegistry.Get("minilm_value").Build(ctx, ("teacher_layer", 2)),
            LossRegistry.Get("attention_peaked").Build(ctx, ("layer_map", LayerMap.Last(1))),
        ];
        Assert.Equal("logits hidden[0,2,4] attentions[3] values[2]", TeacherNeeds.Of(terms).ToString());
        Assert.Equal("nothing", LossRegistry.Get("ce").Build(ctx).Needs.ToString());
    }

    [Fact]
    public void StageLossIsTheWeightedSumOfItsTerms()
    {
        using var scope = NewDisposeScope();
        var ctx = Context(layersS: 2, layersT: 4, hiddenS: 4, hiddenT: 6, headsS: 2, headsT: 2, maxLen: 3);
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var (student, teacher) = (Full(5, 2, 4, 2, mask), Full(6, 4, 6, 2, mask));
        var batch = new LossBatch { AttentionMask = mask };
        var specs = DistillSharp.Config.ConfigLoader.Parse<DistillSharp.Config.Encoder.RunConfig>(
            "teacher: { source: builtin:all-MiniLM-L6-v2 }\nstages: [{ name: a, steps: 1, losses: { kl: 0.5, hidden_mse: 2, minilm_attention: 0 } }]").Stages[0].Losses;
        var stage = new StageLoss(specs, ctx);
        var result = stage.Compute(student, teacher, batch);
        var kl = Item(stage.Terms[0].Term.Compute(student, teacher, batch).Loss);
        var hidden = Item(stage.Terms[1].Term.Compute(student, teacher, batch).Loss);
        Assert.Equal(0.5 * kl + 2 * hidden, Item(result.Loss), 5);
        Assert.Equal(Item(result.Loss), result.Scalars["loss"], 5);
        Assert.False(result.Scalars.ContainsKey("minilm_attention"));            // weight 0: not computed
        Assert.Equal(4, stage.Parameters().Count());                               // hidden_mse's two Linear(4, 6)
        Assert.Equal("logits hidden[2,4]", stage.Needs.ToString());                 // weight-0 terms need nothing
    }

    [Fact]
    public void ProjectionsAreTrainableParametersOfTheTerm()
    {
        using var scope = NewDisposeScope();
        var ctx = Context(layersS: 2, layersT: 4, hiddenS: 4, hiddenT: 6, maxLen: 5);
        Assert.Equal(4, LossRegistry.Get("hidden_mse").Build(ctx).Parameters().Count());        // 2 pairs × (W, b)
        Assert.Equal(4, LossRegistry.Get("attention_weighted").Build(ctx).Parameters().Count()); // 2 pairs × Linear(5, 5)
        Assert.Empty(LossRegistry.Get("minilm_relation").Build(ctx).Parameters());
        Assert.All(LossRegistry.Get("embedding_mse").Build(ctx).Parameters(), p => Assert.True(p.requires_grad));
    }
}

public class LossDocsTests
{
    [Fact]
    public void LossesMdDocumentsEveryTermAndEveryKey()
    {
        var doc = File.ReadAllText(Path.Combine(DistillSharp.Tests.Config.RepoPaths.Root(), "docs", "LOSSES.md"));
        foreach (var d in LossRegistry.All.Values)
        {
            var at = doc.IndexOf($"### `{d.Name}`", StringComparison.Ordinal);
            Assert.True(at >= 0, $"docs/LOSSES.md has no section for '{d.Name}'");
            var next = doc.IndexOf("\n### ", at + 1, StringComparison.Ordinal);
            var section = next < 0 ? doc[at..] : doc[at..next];
            foreach (var key in d.Keys)
                Assert.True(section.Contains($"`{key}`", StringComparison.Ordinal), $"section '{d.Name}' does not document key '{key}'");
        }
    }
}
