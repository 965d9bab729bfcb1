namespace DistillSharp.Runtime.Encoder;

/// <summary>
/// How <see cref="Int8Encoder"/> cuts a batch into passes (consecutive groups of whole sequences that
/// run through all layers in turn), and whether the passes run side by side, one per thread.
/// Reused across calls: nothing is allocated once the batch size has been seen.
/// </summary>
internal sealed class EncoderPassPlan(int threads)
{
    int[] _first = [];                       // pass p = sequences [_first[p], _first[p + 1])
    int[] _tokens = [];                      // pass p's real tokens
    readonly long[] _load = new long[threads];

    /// <summary>Passes of the last <see cref="Cut"/>.</summary>
    public int Count { get; private set; }

    /// <summary>First sequence of pass <paramref name="p"/>; <c>First(Count)</c> is the batch size.</summary>
    public int First(int p) => _first[p];

    /// <summary>Real tokens of pass <paramref name="p"/>.</summary>
    public int Tokens(int p) => _tokens[p];

    /// <summary>Real tokens of the largest pass of the last <see cref="Cut"/>.</summary>
    public int MaxTokens { get; private set; }

    /// <summary>Sequences of the pass with the most sequences in the last <see cref="Cut"/>.</summary>
    public int MaxSequences { get; private set; }

    /// <summary>
    /// Cuts sequences of <paramref name="tokens"/> real tokens each into passes of at most
    /// <paramref name="passTokens"/> tokens (a longer sequence runs alone). With
    /// <paramref name="equalize"/> (the grouping cannot change a result: per-row activation scales;
    /// passes may run side by side) the passes are made equal instead: their count rounded up to a
    /// multiple of the threads, each about total / count tokens.
    /// </summary>
    public void Cut(ReadOnlySpan<int> tokens, long passTokens, bool equalize)
    {
        long total = 0;
        foreach (int n in tokens) total += n;
        long target = passTokens;
        if (equalize && total > passTokens)
        {
            long count = (total + passTokens - 1) / passTokens;
            count = (count + threads - 1) / threads * threads;
            target = (total + count - 1) / count;
        }
        int b = tokens.Length;
        if (_first.Length < b + 1)
        {
            _first = new int[Math.Max(b + 1, 2 * _first.Length)];
            _tokens = new int[_first.Length];
        }
        int passes = 0;
        MaxTokens = MaxSequences = 0;
        for (int s0 = 0; s0 < b;)
        {
            int s1 = s0;
            long sum = 0;
            while (s1 < b && (s1 == s0 || sum + tokens[s1] <= target)) sum += tokens[s1++];
            _first[passes] = s0;
            _tokens[passes++] = (int)sum;
            MaxTokens = Math.Max(MaxTokens, (int)sum);
            MaxSequences = Math.Max(MaxSequences, s1 - s0);
            s0 = s1;
        }
        _first[passes] = b;
        Count = passes;
    }

    /// <summary>
    /// True when the passes should run side by side, one per thread: at least one per thread, and
    /// handed out in order to whichever thread is free (as the pool does), the busiest thread gets
    /// at most 1/8 more tokens than an even share. A pass then needs no hand-off between threads and
    /// its activations stay in one core's cache; spreading each op over the threads costs a
    /// synchronisation per op and moves every activation between cores.
    /// </summary>
    public bool SideBySide()
    {
        if (threads < 2 || Count < threads) return false;
        Array.Clear(_load);
        long total = 0;
        for (int p = 0; p < Count; p++)
        {
            long sum = _tokens[p];
            int free = 0;
            for (int k = 1; k < _load.Length; k++) if (_load[k] < _load[free]) free = k;
            _load[free] += sum;
            total += sum;
        }
        long most = 0;
        foreach (long l in _load) most = Math.Max(most, l);
        return most * threads * 8 <= total * 9;
    }
}
