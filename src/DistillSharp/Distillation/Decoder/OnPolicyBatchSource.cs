using System.Security.Cryptography;
using DistillSharp.Runtime;
using DistillSharp.Data.Decoder;
using DistillSharp.Data;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// Samples responses from <paramref name="prompts"/> for one batch: the student as it is now,
/// seeded so that the same (step, prompts) give the same tokens.
/// </summary>
/// <returns>One response per prompt (token ids after the prompt; may end with an end-of-text id).</returns>
public delegate IReadOnlyList<int[]> ResponseSampler(IReadOnlyList<int[]> prompts, ulong seed);

/// <summary>
/// On-policy distillation data (GKD, Agarwal et al. 2024, with λ = 1): every batch is made of
/// responses the student samples <em>now</em> from prompts of the training text; the trainer's
/// token-level KD loss then scores those response tokens against the teacher's distribution at
/// the same positions, so the student learns on the sequences it actually produces rather than
/// on the teacher's or the corpus's. The batch for a position depends only on (seed, epoch,
/// batch) and the student's weights, which a checkpoint holds, so a resumed run draws the same
/// samples. The teacher must be computed live (dense): samples change as the student learns, so
/// a teacher cache keyed by example would be wrong.
/// </summary>
public sealed class OnPolicyBatchSource : ILmBatchSource
{
    readonly IReadOnlyList<int[]> _prompts;
    readonly ResponseSampler _sample;
    readonly int _batchSize, _maxLength;
    readonly ulong _seed;

    /// <summary>Batches of <paramref name="batchSize"/> prompts; prompt + response is cut to <paramref name="maxLength"/> + 1 tokens.</summary>
    public OnPolicyBatchSource(IReadOnlyList<int[]> prompts, ResponseSampler sample, int batchSize, int maxLength, ulong seed, DataPosition? start = null)
    {
        if (prompts.Count == 0) throw new DistillSharpException("on-policy distillation needs at least one prompt");
        if (batchSize <= 0) throw new DistillSharpException($"batch size {batchSize} must be > 0");
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Length == 0) throw new DistillSharpException($"on-policy prompt {i} is empty");
            SftBatcher.CheckPromptFits($"on-policy prompt {i}", prompts[i], maxLength);
        }
        _prompts = prompts;
        _sample = sample;
        _batchSize = batchSize;
        _maxLength = maxLength;
        _seed = seed;
        ContentHash = Hash(prompts, maxLength);
        Position = start ?? new DataPosition(0, 0);
    }

    /// <inheritdoc/>
    public DataPosition Position { get; set; }

    /// <inheritdoc/>
    public int BatchesPerEpoch => (_prompts.Count + _batchSize - 1) / _batchSize;

    /// <inheritdoc/>
    public string ContentHash { get; }

    /// <inheritdoc/>
    public LmBatch Next()
    {
        var batch = Make(Position);
        Position = Position.Batch + 1 < BatchesPerEpoch ? Position with { Batch = Position.Batch + 1 } : new DataPosition(Position.Epoch + 1, 0);
        return batch;
    }

    /// <inheritdoc/>
    public IEnumerable<LmBatch> Epoch(int epoch)
    {
        for (int b = 0; b < BatchesPerEpoch; b++) yield return Make(new DataPosition(epoch, b));
    }

    /// <summary>The sampling seed of a position (distinct per epoch and batch).</summary>
    public ulong SeedOf(DataPosition position) =>
        new SplitMix64(_seed ^ (0x9E3779B97F4A7C15UL * (ulong)(position.Epoch + 1)) ^ (0xBF58476D1CE4E5B9UL * (ulong)(position.Batch + 1))).NextUInt64();

    LmBatch Make(DataPosition position)
    {
        var order = SftBatcher.EpochOrder(_prompts.Count, _seed, position.Epoch);
        var rows = order.Skip(position.Batch * _batchSize).Take(_batchSize).ToArray();
        var prompts = rows.Select(i => _prompts[i]).ToList();
        var responses = _sample(prompts, SeedOf(position));
        if (responses.Count != prompts.Count)
            throw new InvalidOperationException($"the sampler returned {responses.Count} responses for {prompts.Count} prompts");
        if (responses.Any(r => r.Length == 0))
            throw new InvalidOperationException("the sampler returned an empty response (it must generate at least one token, the stop token included)");
        var examples = prompts.Select((p, i) => new SftExample(p, responses[i])).ToList();
        var batch = new SftBatcher(examples, examples.Count, _maxLength, _seed).InOrder().Single();
        return batch with { ExampleIds = rows.Select(i => (long)i).ToArray() };
    }

    static string Hash(IReadOnlyList<int[]> prompts, int maxLength)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"onpolicy-v1 max={maxLength} n={prompts.Count}\0"));
        foreach (var p in prompts)
        {
            sha.AppendData(BitConverter.GetBytes(p.Length));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
