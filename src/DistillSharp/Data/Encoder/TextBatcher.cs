using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Data.Encoder;

/// <summary>A tokenized batch and the corpus indices of its examples (the teacher cache's keys).</summary>
public sealed record IndexedBatch(TokenBatch Tokens, int[] ExampleIds);

/// <summary>
/// Deterministic, resumable, length-bucketed batches over a corpus. Each epoch's order is a pure
/// function of (seed, epoch): the corpus is shuffled, cut into pools of 50 batches, each pool is
/// sorted by length (little padding) and cut into batches, and the batches are shuffled. A position
/// (epoch, batch) is therefore all a checkpoint needs to continue exactly.
/// </summary>
public sealed class TextBatcher
{
    readonly IReadOnlyList<string> _texts;
    readonly BertTextTokenizer _tokenizer;
    readonly int _batchSize;
    readonly int _seed;
    int[][] _epochBatches = [];
    int _loadedEpoch = -1;

    public TextBatcher(IReadOnlyList<string> texts, BertTextTokenizer tokenizer, int batchSize, int seed, DataPosition? start = null)
    {
        if (texts.Count == 0) throw new DistillSharpException("the training corpus is empty");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be > 0");
        _texts = texts;
        _tokenizer = tokenizer;
        _batchSize = batchSize;
        _seed = seed;
        Position = start ?? new DataPosition(0, 0);
    }

    /// <summary>The next batch to be served.</summary>
    public DataPosition Position { get; private set; }

    /// <summary>Batches per epoch (the last one may be smaller).</summary>
    public int BatchesPerEpoch => (_texts.Count + _batchSize - 1) / _batchSize;

    /// <summary>Serves the next batch and advances.</summary>
    public IndexedBatch Next()
    {
        if (_loadedEpoch != Position.Epoch) LoadEpoch(Position.Epoch);
        int[] ids = _epochBatches[Position.Batch];
        Position = Position.Batch + 1 < _epochBatches.Length ? Position with { Batch = Position.Batch + 1 } : new DataPosition(Position.Epoch + 1, 0);
        return new IndexedBatch(_tokenizer.EncodeBatch(ids.Select(i => _texts[i]).ToList()), ids);
    }

    void LoadEpoch(int epoch)
    {
        // Not HashCode.Combine: it is randomised per process, and the order must be the same in every process.
        var rng = new Random(unchecked(_seed * 1_000_003 + epoch * 7919 + 0x5eed));
        int[] order = Enumerable.Range(0, _texts.Count).ToArray();
        rng.Shuffle(order);
        var batches = new List<int[]>();
        int pool = _batchSize * 50;
        for (int start = 0; start < order.Length; start += pool)
        {
            var sorted = order.Skip(start).Take(pool).OrderBy(i => _texts[i].Length).ThenBy(i => i).ToArray();
            for (int b = 0; b < sorted.Length; b += _batchSize) batches.Add(sorted.Skip(b).Take(_batchSize).ToArray());
        }
        var shuffled = batches.ToArray();
        rng.Shuffle(shuffled);
        _epochBatches = shuffled;
        _loadedEpoch = epoch;
    }
}
