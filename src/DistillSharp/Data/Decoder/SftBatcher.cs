using System.Security.Cryptography;
using DistillSharp.Runtime;

namespace DistillSharp.Data.Decoder;

/// <summary>
/// Supervised fine-tuning batches: each example becomes prompt + response (cut to
/// <c>maxLength</c> + 1 tokens from the right), inputs are all tokens but the last, targets all
/// but the first, and the loss mask is 1 exactly where the target is a response token. Rows are
/// right-padded with id 0 to the longest row of the batch (attention and loss mask 0 there).
/// Each epoch's example order is a <see cref="SplitMix64"/> shuffle of (seed, epoch); the last
/// batch of an epoch may be smaller.
/// </summary>
public sealed class SftBatcher : ILmBatchSource
{
    readonly IReadOnlyList<SftExample> _examples;
    readonly int _batchSize, _maxLength;
    readonly ulong _seed;
    int[] _order = [];
    int _orderEpoch = -1;

    /// <summary>Batches of <paramref name="batchSize"/> examples, at most <paramref name="maxLength"/> input positions each.</summary>
    public SftBatcher(IReadOnlyList<SftExample> examples, int batchSize, int maxLength, ulong seed, DataPosition? start = null)
    {
        if (examples.Count == 0) throw new DistillSharpException("the SFT data set is empty");
        if (batchSize <= 0) throw new DistillSharpException($"batch size {batchSize} must be > 0");
        if (maxLength < 1) throw new DistillSharpException($"max length {maxLength} must be ≥ 1");
        for (int i = 0; i < examples.Count; i++)
        {
            if (examples[i].Response.Length == 0) throw new DistillSharpException($"SFT example {i} has an empty response");
            CheckPromptFits($"SFT example {i}: its prompt", examples[i].Prompt, maxLength);
        }
        _examples = examples;
        _batchSize = batchSize;
        _maxLength = maxLength;
        _seed = seed;
        ContentHash = Hash(examples, maxLength);
        Position = start ?? new DataPosition(0, 0);
    }

    /// <inheritdoc/>
    public DataPosition Position { get; set; }

    /// <inheritdoc/>
    public int BatchesPerEpoch => (_examples.Count + _batchSize - 1) / _batchSize;

    /// <inheritdoc/>
    public string ContentHash { get; }

    /// <inheritdoc/>
    public LmBatch Next()
    {
        if (_orderEpoch != Position.Epoch)
        {
            _order = Order(Position.Epoch);
            _orderEpoch = Position.Epoch;
        }
        var batch = Make(_order, Position.Batch);
        Position = Position.Batch + 1 < BatchesPerEpoch ? Position with { Batch = Position.Batch + 1 } : new DataPosition(Position.Epoch + 1, 0);
        return batch;
    }

    /// <inheritdoc/>
    public IEnumerable<LmBatch> Epoch(int epoch)
    {
        var order = Order(epoch);
        for (int b = 0; b < BatchesPerEpoch; b++) yield return Make(order, b);
    }

    /// <summary>Batches of the examples in their given order (evaluation: no shuffle).</summary>
    public IEnumerable<LmBatch> InOrder()
    {
        var order = Enumerable.Range(0, _examples.Count).ToArray();
        for (int b = 0; b < BatchesPerEpoch; b++) yield return Make(order, b);
    }

    int[] Order(int epoch) => EpochOrder(_examples.Count, _seed, epoch);

    /// <summary>The shuffled order of <paramref name="count"/> items in <paramref name="epoch"/> (deterministic per seed and epoch).</summary>
    internal static int[] EpochOrder(int count, ulong seed, int epoch) =>
        new SplitMix64(seed ^ (0xD1B54A32D192ED03UL * (ulong)(epoch + 1))).Shuffled(Enumerable.Range(0, count)).ToArray();

    /// <summary>Throws when <paramref name="prompt"/> leaves no response token within <paramref name="maxLength"/> input positions.</summary>
    internal static void CheckPromptFits(string what, int[] prompt, int maxLength)
    {
        if (prompt.Length >= maxLength + 1)
            throw new DistillSharpException($"{what} has {prompt.Length} tokens and leaves no response token within max length {maxLength}");
    }

    LmBatch Make(int[] order, int batchIndex)
    {
        var rows = order.Skip(batchIndex * _batchSize).Take(_batchSize).ToArray();
        var sequences = rows.Select(i => _examples[i].Prompt.Concat(_examples[i].Response).Take(_maxLength + 1).ToArray()).ToArray();
        int b = rows.Length, t = sequences.Max(s => s.Length - 1);
        var input = new long[b * t];
        var targets = new long[b * t];
        var attention = new long[b * t];
        var loss = new long[b * t];
        for (int r = 0; r < b; r++)
        {
            var s = sequences[r];
            int promptLength = _examples[rows[r]].Prompt.Length;
            for (int i = 0; i + 1 < s.Length; i++)
            {
                input[r * t + i] = s[i];
                attention[r * t + i] = 1;
                if (i + 1 >= promptLength)
                {
                    targets[r * t + i] = s[i + 1];
                    loss[r * t + i] = 1;
                }
            }
        }
        return new LmBatch(b, t, input, targets, attention, loss, rows.Select(i => (long)i).ToArray());
    }

    static string Hash(IReadOnlyList<SftExample> examples, int maxLength)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"sft-v1 max={maxLength} n={examples.Count}\0"));
        foreach (var e in examples)
        {
            sha.AppendData(BitConverter.GetBytes(e.Prompt.Length));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.Prompt.AsSpan()));
            sha.AppendData(BitConverter.GetBytes(e.Response.Length));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.Response.AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
