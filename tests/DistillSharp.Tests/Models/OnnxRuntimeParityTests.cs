using DistillSharp.Models.Encoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models;

/// <summary>Our TorchSharp MiniLM against ONNX Runtime running the very same ONNX file.</summary>
public class OnnxRuntimeParityTests
{
    internal static readonly string[] Sentences =
    [
        "The quick brown fox jumps over the lazy dog.",
        "a",
        "Distillation transfers knowledge from a large teacher to a small student, layer by layer, with attention maps and hidden states as guides.",
        "Hello, world!",
        "WordNet groups English words into sets of synonyms called synsets.",
    ];

    [Theory]
    [InlineData("all-MiniLM-L6-v2")]
    [InlineData("arctic-embed-xs")]
    public void HiddenStatesAndAttentionsMatchOnnxRuntime(string name)
    {
        var teacher = BuiltinTeachers.Get(name);
        var (onnx, _) = teacher.ReadResources();
        using var encoder = ModelLoader.Load("builtin:" + name);
        using var ort = new OnnxRuntimeEncoder(onnx, exposeAttentions: true, optimize: false);
        Assert.Equal(6, ort.AttentionOutputs.Count);

        var batch = encoder.Tokenizer.EncodeBatch(Sentences);
        var (hidden, shape, attentions) = ort.Run(batch);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ours = encoder.Forward(batch);
        float[] ourHidden = ours.LastHiddenState.contiguous().data<float>().ToArray();
        Assert.Equal(shape.Select(s => (long)s), ours.LastHiddenState.shape);
        int t = batch.Length, h = (int)shape[2];
        double maxDiff = 0;
        for (int b = 0; b < batch.Count; b++)
            for (int i = 0; i < t; i++) // padding positions included
                    for (int j = 0; j < h; j++)
                        maxDiff = Math.Max(maxDiff, Math.Abs(hidden[(b * t + i) * h + j] - ourHidden[(b * t + i) * h + j]));
        Assert.True(maxDiff <= 1e-4, $"max |Δ last_hidden_state| = {maxDiff}");

        foreach (int layer in new[] { 0, 5 })
        {
            float[] ourAttn = ours.Attentions[layer].contiguous().data<float>().ToArray();
            float[] ref_ = attentions[layer];
            Assert.Equal(ref_.Length, ourAttn.Length);
            double maxAttn = ref_.Zip(ourAttn, (a, c) => Math.Abs(a - c)).Max();
            Assert.True(maxAttn <= 1e-5, $"layer {layer}: max |Δ attention| = {maxAttn}");
        }
    }
}
