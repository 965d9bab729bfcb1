using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Quantization;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Runtime.Decoder;

/// <summary>
/// Tiny seeded Llama-style decoders (GQA, tied embeddings by default) and the TorchSharp reference
/// of the INT8 runtime: the same model with every Linear's weight replaced by its
/// quantize→dequantize values and its input fake-quantized per token exactly as
/// <see cref="DistillSharp.Runtime.Kernels.ActivationQuantizer"/> does (asymmetric u8, min/max
/// widened to 0, s = (max − min)/255, zp = round(−min/s), q = clamp(round(x·(1/s)) + zp, 0, 255)).
/// </summary>
internal static class TinyDecoders
{
    public static DecoderConfig TinyConfig(bool tied = true, RopeScaling? scaling = null, string type = "llama", int? window = null) => new()
    {
        ModelType = type, VocabSize = 96, HiddenSize = 48, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 12,
        IntermediateSize = 72, MaxPositions = 64, NormEps = 1e-6, RopeTheta = 10000, RopeScaling = scaling,
        TieWordEmbeddings = tied, AttentionBias = type == "qwen2", SlidingWindow = window,
    };

    /// <summary>A model with weights ~ N(0, 0.15²) (larger than HF's 0.02, so logits are far from ties) and norms 1 ± 0.1.</summary>
    public static LlamaForCausalLm Model(DecoderConfig? config = null, int seed = 3)
    {
        manual_seed(seed);
        var model = new LlamaForCausalLm(config ?? TinyConfig());
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
            {
                using var r = randn_like(p);
                if (name.EndsWith("layernorm.weight") || name == "model.norm.weight") p.copy_(r * 0.1 + 1);
                else p.copy_(r * 0.15);
            }
        model.eval();
        return model;
    }

    /// <summary>Per-token fake quantization of the last dimension (the runtime's rule, in torch).</summary>
    public static Tensor FakeQuantPerToken(Tensor x)
    {
        using var scope = NewDisposeScope();
        var min = x.amin([-1L], keepdim: true).clamp_max(0);
        var max = x.amax([-1L], keepdim: true).clamp_min(0);
        var range = max - min;
        var tiny = range.lt(1e-30f);
        var scale = where(tiny, ones_like(range), range / 255f);
        var zp = where(tiny, zeros_like(range), (-min / scale).round().clamp(0, 255));
        var q = (x * scale.reciprocal()).round().add(zp).clamp(0, 255);
        return ((q - zp) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>dq(W) = W_q · s_w row by row, as the runtime's weight-only path computes it.</summary>
    public static Tensor Dequantized(QuantizedLinearWeights q)
    {
        var w = new float[q.Weight.Length];
        for (int n = 0; n < q.OutFeatures; n++)
            for (int k = 0; k < q.InFeatures; k++) w[n * q.InFeatures + k] = q.Weight[n * q.InFeatures + k] * q.WeightScale[n];
        return tensor(w, q.OutFeatures, q.InFeatures);
    }

    sealed class FakeQuantLinearRef(Tensor weight, Tensor? bias, bool quantizeInput) : nn.Module<Tensor, Tensor>("FakeQuantLinearRef")
    {
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var input = quantizeInput ? FakeQuantPerToken(x) : x;
            var y = input.matmul(weight.t());
            return (bias is null ? y : y + bias).MoveToOuterDisposeScope();
        }
    }

    /// <summary>
    /// Turns <paramref name="model"/> (mutated) into the reference of <paramref name="weights"/>:
    /// Linears swapped for dequantized weights (+ per-token input fake quant when
    /// <paramref name="quantizeInput"/>), embeddings set to the runtime's table. Returns ids → logits (T × V).
    /// </summary>
    public static Func<int[], float[]> Reference(LlamaForCausalLm model, Int8DecoderWeights weights, bool quantizeInput)
    {
        var layers = weights.Quantized.Layers;
        LinearSwap.ReplaceLinears(model, (name, linear) =>
        {
            var q = layers[name];
            var bias = q.Bias is null ? null : tensor(q.Bias);
            return new FakeQuantLinearRef(Dequantized(q), bias, quantizeInput);
        });
        if (weights.Int8Embeddings is { } table)
            using (no_grad())
                model.state_dict()[weights.EmbeddingsName].copy_(tensor(table.Dequantize().Data, table.Rows, table.Cols));
        var head = Dequantized(layers[Int8DecoderWeights.LmHeadName]);
        return ids =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var output = model.Forward(tensor(ids.Select(i => (long)i).ToArray(), 1, ids.Length), outputHiddenStates: true);
            var normed = output.HiddenStates[^1];
            var logits = (quantizeInput ? FakeQuantPerToken(normed) : normed).matmul(head.t());
            return logits.data<float>().ToArray();
        };
    }

    /// <summary>fp32 logits of <paramref name="model"/> for one sequence, (T × V).</summary>
    public static float[] Fp32Logits(CausalLm model, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.Forward(tensor(ids.Select(i => (long)i).ToArray(), 1, ids.Length)).Logits.data<float>().ToArray();
    }

    /// <summary>Index of the largest of <paramref name="row"/>.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = MathF.Max(m, MathF.Abs(a[i] - b[i]));
        return m;
    }

    public static int[] Tokens(int seed, int count, int vocab = 96)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }
}
