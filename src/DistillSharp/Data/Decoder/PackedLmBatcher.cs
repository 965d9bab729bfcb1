using System.Security.Cryptography;
using DistillSharp.Runtime;

namespace DistillSharp.Data.Decoder;

/// <summary>
/// Pre-training batches from token-id documents, GPT-style: the documents are concatenated into one
/// stream with an EOS id after each, and the stream is cut into blocks of T + 1 tokens at stride T
/// (block i = stream[iT, iT + T], so every token after the first is a target exactly once; the
/// partial last block is dropped). Each epoch serves the blocks in an order that is a pure function
/// of (seed, epoch) through <see cref="SplitMix64"/> — not <c>HashCode</c>, which differs per
/// process — cut into batches of B blocks (a partial last batch is dropped). So
/// <see cref="Position"/> is all a checkpoint needs to continue exactly.
/// </summary>
public sealed class PackedLmBatcher : ILmBatchSource
{
    readonly int[] _stream;
    readonly int _blockLength, _batchSize;
    readonly ulong _seed;
    int[] _order = [];
    int _orderEpoch = -1;

    /// <summary>Packs <paramref name="documents"/>; T = <paramref name="blockLength"/>, B = <paramref name="batchSize"/>.</summary>
    public PackedLmBatcher(IReadOnlyList<int[]> documents, int eosId, int blockLength, int batchSize, ulong seed, DataPosition? start = null)
    {
        if (blockLength <= 0) throw new DistillSharpException($"block length {blockLength} must be > 0");
        if (batchSize <= 0) throw new DistillSharpException($"batch size {batchSize} must be > 0");
        if (eosId < 0) throw new DistillSharpException($"EOS id {eosId} must be ≥ 0");
        long total = documents.Sum(d => (long)d.Length + 1);
        if (total > int.MaxValue) throw new DistillSharpException($"{total} tokens do not fit one packed stream (max {int.MaxValue})");
        _stream = new int[total];
        int at = 0;
        foreach (var doc in documents)
        {
            doc.CopyTo(_stream, at);
            at += doc.Length;
            _stream[at++] = eosId;
        }
        _blockLength = blockLength;
        _batchSize = batchSize;
        _seed = seed;
        Blocks = Math.Max(0, (_stream.Length - 1) / blockLength);
        if (Blocks < batchSize)
            throw new DistillSharpException($"{_stream.Length} tokens make {Blocks} blocks of {blockLength}+1, fewer than one batch of {batchSize}; use more text, a shorter block or a smaller batch");
        ContentHash = Hash(_stream, eosId, blockLength);
        Position = start ?? new DataPosition(0, 0);
    }

    /// <summary>Blocks of T + 1 tokens in the stream.</summary>
    public int Blocks { get; }

    /// <summary>Tokens in the packed stream (documents + one EOS each).</summary>
    public int StreamTokens => _stream.Length;

    /// <inheritdoc/>
    public DataPosition Position { get; set; }

    /// <inheritdoc/>
    public int BatchesPerEpoch => Blocks / _batchSize;

    /// <inheritdoc/>
    public string ContentHash { get; }

    /// <summary>The T + 1 tokens of block <paramref name="index"/>.</summary>
    public ReadOnlySpan<int> Block(int index) => _stream.AsSpan(index * _blockLength, _blockLength + 1);

    /// <inheritdoc/>
    public LmBatch Next()
    {
        var batch = Make(OrderOf(Position.Epoch), Position.Batch);
        Position = Position.Batch + 1 < BatchesPerEpoch ? Position with { Batch = Position.Batch + 1 } : new DataPosition(Position.Epoch + 1, 0);
        return batch;
    }

    /// <inheritdoc/>
    public IEnumerable<LmBatch> Epoch(int epoch)
    {
        var order = ShuffledBlocks(epoch);
        for (int b = 0; b < BatchesPerEpoch; b++) yield return Make(order, b);
    }

    /// <summary>The block order of an epoch: a Fisher–Yates shuffle seeded by (seed, epoch).</summary>
    public int[] ShuffledBlocks(int epoch)
    {
        var random = new SplitMix64(_seed ^ (0xD1B54A32D192ED03UL * (ulong)(epoch + 1)));
        return random.Shuffled(Enumerable.Range(0, Blocks)).ToArray();
    }

    int[] OrderOf(int epoch)
    {
        if (_orderEpoch != epoch)
        {
            _order = ShuffledBlocks(epoch);
            _orderEpoch = epoch;
        }
        return _order;
    }

    LmBatch Make(int[] order, int batchIndex)
    {
        int b = _batchSize, t = _blockLength;
        var input = new long[b * t];
        var targets = new long[b * t];
        var ones = Enumerable.Repeat(1L, b * t).ToArray();
        var ids = new long[b];
        for (int r = 0; r < b; r++)
        {
            int block = order[batchIndex * b + r];
            ids[r] = block;
            var tokens = Block(block);
            for (int i = 0; i < t; i++)
            {
                input[r * t + i] = tokens[i];
                targets[r * t + i] = tokens[i + 1];
            }
        }
        return new LmBatch(b, t, input, targets, ones, (long[])ones.Clone(), ids);
    }

    static string Hash(int[] stream, int eos, int blockLength)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"packed-lm-v1 eos={eos} T={blockLength} n={stream.Length}\0"));
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(stream.AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
