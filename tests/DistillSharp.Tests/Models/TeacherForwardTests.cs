using DistillSharp.Export.Encoder;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Tests.Export;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models;

/// <summary>
/// The ONNX Runtime teacher engine against the TorchSharp teacher on every output a distillation
/// loss reads. Tolerance: 2e-5 absolute on hidden states, Q/K/V and the pooled embedding (O(1)
/// values; fp32 GEMMs in another summation order: measured 7.2e-7 on this tiny model, the real
/// MiniLM teacher in docs/BENCHMARKS.md), 1e-6 on attention probabilities (in [0, 1]; measured
/// 3.0e-8). A padded batch, so the mask path is covered.
/// </summary>
public class TeacherForwardTests(Xunit.Abstractions.ITestOutputHelper log)
{
    const float Tolerance = 2e-5f, ProbabilityTolerance = 1e-6f;

    static float MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Onnx_engine_matches_torch_on_every_distillation_output(bool withQkv)
    {
        using var teacher = TinyModels.Encoder(seed: 5);
        var batch = teacher.Tokenizer.EncodeBatch(ExportTestKit.TinySentences);
        using var scope = NewDisposeScope();
        using var torchEngine = TeacherEngines.Create("torchsharp", teacher, 1);
        using var ortEngine = TeacherEngines.Create("onnxruntime", teacher, 1);
        ModelOutput expected = torchEngine.Forward(batch, withQkv), actual = ortEngine.Forward(batch, withQkv);
        Assert.Equal("onnxruntime", ortEngine.Engine);
        Assert.Equal(expected.HiddenStates.Count, actual.HiddenStates.Count);
        Assert.Equal(expected.Attentions.Count, actual.Attentions.Count);
        for (int i = 0; i < expected.HiddenStates.Count; i++)
        {
            Assert.Equal(expected.HiddenStates[i].shape, actual.HiddenStates[i].shape);
            Assert.True(MaxAbsDiff(expected.HiddenStates[i], actual.HiddenStates[i]) < Tolerance, $"hidden state {i}");
        }
        for (int i = 0; i < expected.Attentions.Count; i++)
        {
            Assert.Equal(expected.Attentions[i].shape, actual.Attentions[i].shape);
            Assert.True(MaxAbsDiff(expected.Attentions[i], actual.Attentions[i]) < ProbabilityTolerance, $"attention {i}");
        }
        Assert.True(MaxAbsDiff(expected.Pooled!, actual.Pooled!) < Tolerance, "pooled");
        log.WriteLine($"max |ort − torch|: hidden {expected.HiddenStates.Select((h, i) => MaxAbsDiff(h, actual.HiddenStates[i])).Max():E2}, " +
            $"attention {expected.Attentions.Select((h, i) => MaxAbsDiff(h, actual.Attentions[i])).Max():E2}, pooled {MaxAbsDiff(expected.Pooled!, actual.Pooled!):E2}");
        Assert.True(torch_equal(expected.AttentionMask, actual.AttentionMask));
        if (!withQkv)
        {
            Assert.Null(actual.Queries);
            return;
        }
        foreach (var (name, e, a) in new[] { ("queries", expected.Queries!, actual.Queries!), ("keys", expected.Keys!, actual.Keys!), ("values", expected.Values!, actual.Values!) })
            for (int i = 0; i < e.Count; i++)
            {
                Assert.Equal(e[i].shape, a[i].shape);
                Assert.True(MaxAbsDiff(e[i], a[i]) < Tolerance, $"{name} {i}");
            }
    }

    static bool torch_equal(Tensor a, Tensor b) => eq(a, b).all().item<bool>();

    [Fact]
    public void Unknown_engine_lists_the_known_ones()
    {
        using var teacher = TinyModels.Encoder();
        var e = Assert.Throws<DistillSharpException>(() => TeacherEngines.Create("tensorrt", teacher, 1));
        Assert.Contains("torchsharp, onnxruntime", e.Message);
    }

    [Fact]
    public void A_graph_without_distillation_outputs_is_refused_with_the_missing_name()
    {
        using var teacher = TinyModels.Encoder();
        var plain = Google.Protobuf.MessageExtensions.ToByteArray(OnnxExporter.BuildFp32(teacher.Model));
        var e = Assert.Throws<DistillSharpException>(() => new OnnxTeacherForward(plain, teacher.Model.Config, teacher.Pooling, teacher.Normalize, 1));
        Assert.Contains("hidden_states.2", e.Message);
    }
}
