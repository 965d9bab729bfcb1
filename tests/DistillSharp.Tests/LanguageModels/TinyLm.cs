using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Tests.LanguageModels;

/// <summary>
/// A tiny causal LM for trainer tests: each position's logits depend on its own token only,
/// embedding (V, 16) → tanh MLP (16 → 16) → (16 → V). Enough to learn a bigram table.
/// </summary>
internal sealed class TinyLm : nn.Module<Tensor, Tensor>
{
    readonly Embedding embed;
    readonly Linear hidden;
    readonly Linear head;

    public TinyLm(int vocab, int seed, int width = 16) : base("tiny_lm")
    {
        manual_seed(seed);
        embed = nn.Embedding(vocab, width);
        hidden = nn.Linear(width, width);
        head = nn.Linear(width, vocab);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids) => head.forward(hidden.forward(embed.forward(ids)).tanh()); // (B, T, V)

    /// <summary>The trainer's logits delegate (the mask is not needed: no attention).</summary>
    public Tensor Logits(Tensor ids, Tensor attentionMask) => forward(ids);

    /// <summary>A repetitive stream: documents of the cycle 1 2 3 … 7 (EOS 0 between them).</summary>
    public static List<int[]> CyclicDocs(int docs = 30, int length = 21) =>
        Enumerable.Range(0, docs).Select(d => Enumerable.Range(0, length).Select(i => 1 + (i + d) % 7).ToArray()).ToList();

    /// <summary>Flat copy of every parameter, for bit-for-bit comparisons.</summary>
    public float[] Weights() => parameters().SelectMany(p => p.detach().contiguous().data<float>().ToArray()).ToArray();
}
