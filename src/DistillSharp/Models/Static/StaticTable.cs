using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Models.Static;

/// <summary>
/// The trainable form of a static student: one float row per vocabulary token
/// (parameter <c>embeddings</c>, [vocab, dims]) and the same pooling as the runtime's
/// <c>StaticEncoder</c> before normalisation — the mean of the rows of the tokens that count.
/// Only the training side uses it; what ships is the int8 table made from <see cref="Rows"/>.
/// </summary>
public sealed class StaticTable : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Parameter embeddings;

    /// <summary>A table initialised from <paramref name="rows"/> (row-major [vocab, dims]).</summary>
    public StaticTable(float[] rows, int vocab, int dims) : base("static_table")
    {
        if (vocab < 1 || dims < 1 || rows.LongLength != (long)vocab * dims)
            throw new ArgumentException($"rows holds {rows.LongLength} values, expected vocab {vocab} × dims {dims}");
        (Vocab, Dims) = (vocab, dims);
        embeddings = new Parameter(tensor(rows, [vocab, dims]));
        RegisterComponents();
    }

    /// <summary>Tokens (rows).</summary>
    public int Vocab { get; }
    /// <summary>Embedding width.</summary>
    public int Dims { get; }

    /// <summary>
    /// Mean of the rows of <paramref name="ids"/> (B, T) int64 weighted by <paramref name="counts"/>
    /// (B, T) float: 1 for a token that counts, 0 for padding and skipped tokens. Returns (B, dims);
    /// a row with no counted token is zeros.
    /// </summary>
    public override Tensor forward(Tensor ids, Tensor counts)
    {
        var rows = embeddings.index_select(0, ids.reshape(-1)).reshape(ids.shape[0], ids.shape[1], Dims); // (B, T, D)
        var sum = (rows * counts.unsqueeze(-1)).sum(1);                                                     // (B, D)
        return sum / counts.sum(1, keepdim: true).clamp_min(1);
    }

    /// <summary>The current rows, row-major [vocab, dims].</summary>
    public float[] Rows()
    {
        using var _ = no_grad();
        return embeddings.detach().contiguous().data<float>().ToArray();
    }
}
