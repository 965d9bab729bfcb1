using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models.Decoder;

/// <summary>Tiny decoders (hidden 32, 2 layers) with fixed seeds, and helpers shared by the decoder tests.</summary>
internal static class DecoderTestKit
{
    /// <summary>Llama-style: 4 query heads sharing 2 KV heads, tied embeddings.</summary>
    public static DecoderConfig Llama(int vocab = 97) => new()
    {
        ModelType = "llama", VocabSize = vocab, HiddenSize = 32, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 8,
        IntermediateSize = 48, MaxPositions = 128, NormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = true,
        HiddenAct = "silu", BosTokenId = 1, EosTokenIds = [2],
    };

    /// <summary>GPT-2-style: 4 heads, learned positions, tied.</summary>
    public static DecoderConfig Gpt2(int vocab = 97) => new()
    {
        ModelType = "gpt2", VocabSize = vocab, HiddenSize = 32, NumLayers = 2, NumHeads = 4, NumKvHeads = 4, HeadDim = 8,
        IntermediateSize = 64, MaxPositions = 64, NormEps = 1e-5, TieWordEmbeddings = true, AttentionBias = true,
        HiddenAct = "gelu_new", BosTokenId = 0, EosTokenIds = [0],
    };

    /// <summary>A model of <paramref name="config"/> with weights from <paramref name="seed"/>; biases and norms randomised too so they are exercised.</summary>
    public static CausalLm Create(DecoderConfig config, int seed = 7)
    {
        manual_seed(seed);
        var model = DecoderModels.Create(config);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (p.dim() == 1) p.add_(randn_like(p) * 0.1);
            else p.normal_(0, 0.2); // larger than HF's 0.02 so attention is far from uniform
        return model;
    }

    /// <summary>(B, T) int64 ids from rows of ints.</summary>
    public static Tensor Ids(params long[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        using var d = (a - b).abs().max();
        return d.item<float>();
    }

    /// <summary>A fresh temporary folder.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "distill-decoder-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
