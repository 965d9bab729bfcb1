using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests;

/// <summary>Tiny, seeded models for unit tests (hidden 32, 2 layers, a 40-token vocabulary).</summary>
internal static class TinyModels
{
    public static readonly string[] Words =
    [
        "the", "a", "cat", "dog", "sat", "on", "mat", "ran", "fast", "slow", "big", "small", "red", "blue",
        "house", "tree", "bird", "fish", "eat", "sleep", "and", "or", "not", "is", "was", "it", ".", ",", "##s", "##ed",
    ];

    public static string Vocab => string.Join("\n", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat(Words)) + "\n";

    public static BertConfig Config(int layers = 2, int hidden = 32, int heads = 4, int ffn = 64) => new()
    {
        VocabSize = 5 + Words.Length, HiddenSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = heads,
        IntermediateSize = ffn, MaxPositionEmbeddings = 64, LayerNormEps = 1e-12,
        HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
    };

    public static SentenceEncoder Encoder(int seed = 1, BertConfig? config = null, Pooling pooling = Pooling.Mean)
    {
        manual_seed(seed);
        var model = new BertEncoderModel(config ?? Config());
        // Non-trivial LayerNorm and bias values, so that save/load tests would notice a swap.
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith(".bias") || name.Contains("LayerNorm")) p.add_(randn_like(p) * 0.1);
        model.eval();
        return new SentenceEncoder(model, new BertTextTokenizer(Vocab, lowerCase: true, maxLength: 32), pooling, normalize: true, "tiny");
    }
}
