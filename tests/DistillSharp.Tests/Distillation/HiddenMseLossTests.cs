using DistillSharp.Distillation.Encoder.Losses;
using TorchSharp;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class HiddenMseLossTests
{
    [Theory]
    [InlineData(3, 6, "uniform", "0-1 1-3 2-5")]     // round((i+1)·6/3) − 1
    [InlineData(4, 6, "uniform", "0-1 1-2 2-4 3-5")] // (i+1)·1.5 = 1.5, 3, 4.5, 6 → halves round up
    [InlineData(2, 2, "uniform", "0-0 1-1")]
    [InlineData(3, 6, "last-2", "1-4 2-5")]
    public void LayerMapsResolveAsDocumented(int student, int teacher, string map, string expected)
    {
        var parsed = LayerMap.Parse(new YamlDotNet.RepresentationModel.YamlScalarNode(map), "layer_map");
        var pairs = parsed.Resolve(student, teacher, "test");
        Assert.Equal(expected, string.Join(" ", pairs.Select(p => $"{p.Student}-{p.Teacher}")));
    }

    [Fact]
    public void OutOfRangeLayersFailNamingThePair()
    {
        var e = Assert.Throws<DistillSharpException>(() => LayerMap.Explicit((0, 7)).Resolve(2, 4, "hidden_mse.layer_map"));
        Assert.Contains("[0, 7]", e.Message);
        Assert.Contains("0..3", e.Message);
        Assert.Throws<DistillSharpException>(() => LayerMap.Last(3).Resolve(2, 4, "x"));
    }

    [Fact]
    public void MatchesHandValueAndIgnoresPadding()
    {
        using var scope = NewDisposeScope();
        // 1 student layer, 2 teacher layers, width 2 → identity; uniform maps layer 0 → 1, i.e.
        // hidden state 1 ↔ 2. Token 1 is padding.
        var ctx = new LossContext(new ModelShape(1, 2, 1, 2), new ModelShape(2, 2, 1, 2));
        var mask = Mask([1, 0]);
        Tensor[] S(double pad) => [D([1, 1, pad, pad], 1, 2, 2), D([1, 2, pad, -pad], 1, 2, 2)];
        Tensor[] T(double pad) => [D([0, 0, pad, 0], 1, 2, 2), Randn(1, 1, 2, 2), D([0, 0, 5, pad], 1, 2, 2)];
        double Run(HiddenMseLoss term, double pad) => Item(term.Compute(Output(mask, hidden: S(pad)), Output(mask, hidden: T(pad)),
            new LossBatch { AttentionMask = mask }).Loss);

        var layersOnly = new HiddenMseLoss(ctx, LayerMap.Uniform, includeEmbeddings: false, "auto");
        var withEmbeddings = new HiddenMseLoss(ctx, LayerMap.Uniform, includeEmbeddings: true, "auto");
        Assert.Equal([(1, 2)], layersOnly.HiddenStatePairs);
        Assert.Equal([(0, 0), (1, 2)], withEmbeddings.HiddenStatePairs);
        Assert.Equal([0, 2], withEmbeddings.Needs.HiddenStates);
        Assert.Empty(withEmbeddings.Parameters());
        // Real token: pair (1,2): ((1−0)² + (2−0)²)/2 = 2.5; pair (0,0): (1 + 1)/2 = 1 → mean 1.75.
        Assert.Equal(2.5, Run(layersOnly, 9), 12);
        Assert.Equal(1.75, Run(withEmbeddings, 9), 12);
        Assert.Equal(1.75, Run(withEmbeddings, -1e6), 12);
    }

    [Fact]
    public void ProjectedGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var ctx = Context(layersS: 1, layersT: 2, hiddenS: 3, hiddenT: 2);
        var term = new HiddenMseLoss(ctx, LayerMap.Uniform, includeEmbeddings: true, "auto");
        term.to(ScalarType.Float64);
        Assert.Equal(4, term.Parameters().Count());                  // two Linear(3, 2)
        var mask = Mask([1, 1, 0], [1, 1, 1]);
        var s = new[] { Randn(1, 2, 3, 3), Randn(2, 2, 3, 3) };
        var t = new[] { Randn(3, 2, 3, 2), Randn(4, 2, 3, 2), Randn(5, 2, 3, 2) };
        Tensor Loss(Tensor s1) => term.Compute(Output(mask, hidden: [s[0], s1]), Output(mask, hidden: t), new LossBatch { AttentionMask = mask }).Loss;
        GradCheck(Loss, s[1]);
        foreach (var p in term.parameters()) GradCheckParameter(() => Loss(s[1]), p);
    }
}
