namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// The state of <see cref="Batch"/> sequences being decoded by one <see cref="Int8Decoder"/>: a KV
/// cache of preallocated fp32 buffers, per layer keys and values [batch, kv_heads, capacity, head_dim],
/// the number of tokens each sequence holds, and the work buffers of a call. Buffers are sized at
/// creation for single-token steps and grow only for larger prefills, so decode steps allocate nothing.
/// Not thread-safe; one call at a time.
/// </summary>
public sealed class Int8DecoderSession
{
    readonly int[] _lengths;

    internal Int8DecoderSession(Int8Decoder owner, int batch, int capacity)
    {
        var c = owner.Config;
        Owner = owner;
        Batch = batch;
        Capacity = capacity;
        _lengths = new int[batch];
        long perLayer = (long)batch * c.NumKvHeads * capacity * c.HeadDim;
        if (perLayer > Array.MaxLength || (long)batch * c.VocabSize > Array.MaxLength || (long)batch * c.NumHeads * capacity > Array.MaxLength)
            throw new DistillSharpException($"a KV cache of batch {batch} × capacity {capacity} is too large ({perLayer:N0} floats per layer); use a smaller batch or capacity");
        long bytes = sizeof(float) * (2 * perLayer * c.NumLayers + (long)batch * (c.NumHeads * (long)capacity + c.VocabSize));
        MemoryBudget.Require(bytes, $"a session of batch {batch} × capacity {capacity}");
        Keys = Enumerable.Range(0, c.NumLayers).Select(_ => GC.AllocateUninitializedArray<float>((int)perLayer, pinned: true)).ToArray();
        Values = Enumerable.Range(0, c.NumLayers).Select(_ => GC.AllocateUninitializedArray<float>((int)perLayer, pinned: true)).ToArray();
        Scores = new float[(long)batch * c.NumHeads * capacity];
        Starts = new int[batch];
        Counts = new int[batch];
        Past = new int[batch];
        OutputRows = new int[batch];
        Logits = GC.AllocateUninitializedArray<float>(batch * c.VocabSize, pinned: true);
        Ensure(batch);
    }

    internal Int8Decoder Owner { get; }

    /// <summary>Sequences in the session.</summary>
    public int Batch { get; }

    /// <summary>Most tokens (prompt + generated) a sequence can hold.</summary>
    public int Capacity { get; }

    /// <summary>Tokens held by each sequence (0 before the first prefill).</summary>
    public IReadOnlyList<int> Lengths => _lengths;

    /// <summary>Bytes of the KV cache.</summary>
    public long CacheBytes => 2L * Keys.Length * Keys[0].LongLength * sizeof(float);

    /// <summary>Forgets every sequence (the buffers are kept).</summary>
    public void Reset() => Array.Clear(_lengths);

    internal int[] LengthArray => _lengths;
    internal float[][] Keys { get; }
    internal float[][] Values { get; }
    internal float[] Scores { get; }
    internal int[] Starts { get; }
    internal int[] Counts { get; }
    internal int[] Past { get; }
    internal int[] OutputRows { get; }
    internal float[] Logits { get; }

    // Per-token work buffers of a call (grown to the largest call).
    internal int[] Ids = [], Seq = [], Pos = [];
    internal float[] Hidden = [], Normed = [], Qkv = [], Context = [], Projection = [], GateUp = [], Gated = [], Cos = [], Sin = [], LastRows = [];

    /// <summary>Grows the per-token buffers to <paramref name="tokens"/> rows (sizes checked first: the kernels trust them).</summary>
    internal void Ensure(int tokens)
    {
        var c = Owner.Config;
        int qkv = (c.NumHeads + 2 * c.NumKvHeads) * c.HeadDim;
        long widest = Math.Max(Math.Max(qkv, 2L * c.IntermediateSize), Math.Max(c.HiddenSize, (long)c.NumHeads * c.HeadDim));
        if ((long)tokens * widest > Array.MaxLength)
            throw new DistillSharpException($"{tokens:N0} tokens in one call need buffers of {(long)tokens * widest:N0} floats, more than the INT8 runtime's limit of {Array.MaxLength:N0}");
        long bytes = sizeof(float) * (long)tokens * (4L * c.HiddenSize + qkv + 2L * c.NumHeads * c.HeadDim + 3L * c.IntermediateSize + c.HeadDim);
        if (bytes > MemoryBudget.Bytes) throw MemoryBudget.Refusal(bytes, $"a call of {tokens:N0} tokens");
        Grow(ref Ids, tokens);
        Grow(ref Seq, tokens);
        Grow(ref Pos, tokens);
        Grow(ref Hidden, tokens * c.HiddenSize);
        Grow(ref Normed, tokens * c.HiddenSize);
        Grow(ref Qkv, tokens * qkv);
        Grow(ref Context, tokens * c.NumHeads * c.HeadDim);
        Grow(ref Projection, tokens * c.HiddenSize);
        Grow(ref GateUp, tokens * 2 * c.IntermediateSize);
        Grow(ref Gated, tokens * c.IntermediateSize);
        Grow(ref Cos, tokens * c.HeadDim / 2);
        Grow(ref Sin, tokens * c.HeadDim / 2);
        Grow(ref LastRows, tokens * c.HiddenSize);
    }

    static void Grow<T>(ref T[] array, int needed)
    {
        if (array.Length >= needed) return;
        array = GC.AllocateUninitializedArray<T>(needed, pinned: true);
    }
}
