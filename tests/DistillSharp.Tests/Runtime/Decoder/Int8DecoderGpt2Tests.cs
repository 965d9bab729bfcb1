using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using Xunit.Abstractions;
using static DistillSharp.Tests.Runtime.Decoder.TinyDecoders;
using static TorchSharp.torch;
using DistillSharp.Quantization.Decoder;

namespace DistillSharp.Tests.Runtime.Decoder;

public sealed class Int8DecoderGpt2Tests(ITestOutputHelper log)
{
    static Gpt2LmHeadModel Gpt2(int seed = 4)
    {
        manual_seed(seed);
        var model = new Gpt2LmHeadModel(new DecoderConfig
        {
            ModelType = "gpt2", VocabSize = 96, HiddenSize = 48, NumLayers = 2, NumHeads = 4, NumKvHeads = 4, HeadDim = 12,
            IntermediateSize = 96, MaxPositions = 32, NormEps = 1e-5, HiddenAct = "gelu_new", TieWordEmbeddings = true,
        });
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
            {
                using var r = randn_like(p);
                p.copy_(name.Contains(".ln_") && name.EndsWith(".weight") ? r * 0.1 + 1 : r * 0.15);
            }
        model.eval();
        return model;
    }

    [Fact]
    public void Weight_only_gpt2_matches_torch_with_the_dequantized_weights()
    {
        using var model = Gpt2();
        using var decoder = DecoderToRuntime.Build(model, new Int8DecoderOptions(Mode: Int8DecoderMode.WeightOnly));
        // Reference: the torch model with every Conv1D weight set to dq(W)ᵀ and wte to the int8 table's rows.
        using (no_grad())
        {
            var state = model.state_dict();
            foreach (var (name, q) in decoder.Weights.Quantized.Layers.Where(kv => kv.Key != Int8DecoderWeights.LmHeadName))
                state[name + ".weight"].copy_(Dequantized(q).t());
            var table = decoder.Weights.Int8Embeddings!;
            state["transformer.wte.weight"].copy_(tensor(table.Dequantize().Data, table.Rows, table.Cols));
        }
        int[] ids = Tokens(21, 18);
        float diff = MaxAbsDiff(decoder.Logits(ids), Fp32Logits(model, ids));
        log.WriteLine($"gpt2 weight-only: max |runtime − torch with dequantized weights| = {diff:E2}");
        Assert.True(diff < 1e-4f, $"{diff}");
        Assert.Equal(4 * 2 + 1, decoder.Fp32Layers.Count);
    }

    [Fact]
    public void Dynamic_gpt2_is_close_to_fp32_and_decode_equals_recompute()
    {
        using var model = Gpt2();
        int[] ids = Tokens(22, 16);
        var fp32 = Fp32Logits(model, ids);
        using var decoder = DecoderToRuntime.Build(model, new Int8DecoderOptions(Threads: 2));
        var int8 = decoder.Logits(ids);
        int v = 96, agree = 0;
        for (int t = 0; t < ids.Length; t++) if (ArgMax(int8.AsSpan(t * v, v)) == ArgMax(fp32.AsSpan(t * v, v))) agree++;
        float diff = MaxAbsDiff(int8, fp32);
        log.WriteLine($"gpt2 int8: max |int8 − fp32| = {diff:E2}, max |fp32| = {fp32.Max(MathF.Abs):F2}, top-1 agreement {agree}/{ids.Length}");
        Assert.True(diff < 0.25f, $"{diff}");
        Assert.True(agree >= ids.Length - 2, $"{agree}");

        var session = decoder.NewSession(2, 20);
        var logits = decoder.Prefill(session, [ids[..10], ids[..4]]).ToArray();
        var step = decoder.Decode(session, [ids[10], ids[4]]).ToArray();
        Assert.Equal(decoder.Logits(ids[..11]).AsSpan(10 * v, v).ToArray(), step.AsSpan(0, v).ToArray());
        Assert.Equal(decoder.Logits(ids[..5]).AsSpan(4 * v, v).ToArray(), step.AsSpan(v, v).ToArray());
        Assert.Contains("exceeds n_positions 32", Assert.Throws<DistillSharpException>(() => decoder.NewSession(1, 33)).Message);
    }
}
