namespace DistillSharp.Runtime.Decoder.Generation;

/// <summary>
/// The logits processors of sampling, on one row of V logits (in place), in the order Hugging Face
/// applies them: repetition penalty, temperature, top-k, top-p. Removed tokens get −∞.
/// </summary>
public static class TokenFilters
{
    /// <summary>For each distinct seen token: logit / penalty if positive, logit · penalty otherwise.</summary>
    public static void RepetitionPenalty(float[] logits, IEnumerable<int> seen, double penalty)
    {
        if (penalty == 1.0) return;
        foreach (int id in seen.Distinct())
            logits[id] = logits[id] > 0 ? (float)(logits[id] / penalty) : (float)(logits[id] * penalty);
    }

    /// <summary>Divides every logit by <paramref name="temperature"/> (> 0).</summary>
    public static void Temperature(float[] logits, double temperature)
    {
        if (temperature == 1.0) return;
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)(logits[i] / temperature);
    }

    /// <summary>Keeps logits ≥ the k-th largest (ties at the boundary stay, as in HF).</summary>
    public static void TopK(float[] logits, int k)
    {
        if (k <= 0 || k >= logits.Length) return;
        float kth = logits.OrderDescending().ElementAt(k - 1);
        for (int i = 0; i < logits.Length; i++) if (logits[i] < kth) logits[i] = float.NegativeInfinity;
    }

    /// <summary>
    /// Nucleus filter (Holtzman et al. 2020): in order of decreasing probability, keeps each token
    /// whose more likely predecessors sum to less than <paramref name="p"/> — the smallest prefix
    /// reaching p, the token that crosses p included; at least one token stays.
    /// </summary>
    public static void TopP(float[] logits, double p)
    {
        if (p >= 1.0) return;
        double[] probs = Softmax(logits);
        int[] order = Enumerable.Range(0, logits.Length).OrderByDescending(i => probs[i]).ThenBy(i => i).ToArray();
        double above = 0;
        foreach (int i in order)
        {
            if (above >= p) logits[i] = float.NegativeInfinity;
            above += probs[i];
        }
    }

    /// <summary>Softmax in double precision (−∞ → 0).</summary>
    public static double[] Softmax(float[] logits)
    {
        float max = logits.Max();
        var e = logits.Select(l => float.IsNegativeInfinity(l) ? 0 : Math.Exp(l - max)).ToArray();
        double sum = e.Sum();
        for (int i = 0; i < e.Length; i++) e[i] /= sum;
        return e;
    }

    /// <summary>Index of the largest logit (the first of equal ones).</summary>
    public static int ArgMax(float[] logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>Draws an index with probability softmax(logits).</summary>
    public static int Sample(float[] logits, SplitMix64 rng)
    {
        double[] probs = Softmax(logits);
        double u = rng.NextDouble(), cumulative = 0;
        int last = 0;
        for (int i = 0; i < probs.Length; i++)
        {
            if (probs[i] == 0) continue;
            last = i;
            cumulative += probs[i];
            if (u < cumulative) return i;
        }
        return last; // rounding left u just above the total
    }

    /// <summary>The next token under <paramref name="options"/>: penalty, then greedy or temperature + top-k + top-p + sampling.</summary>
    public static int Choose(float[] logits, IEnumerable<int> seen, GenerationOptions options, SplitMix64 rng)
    {
        RepetitionPenalty(logits, seen, options.RepetitionPenalty);
        if (options.Temperature == 0) return ArgMax(logits);
        Temperature(logits, options.Temperature);
        TopK(logits, options.TopK);
        TopP(logits, options.TopP);
        return Sample(logits, rng);
    }
}
