namespace DistillSharp.Runtime.Decoder;

// Rotary position embedding (Su et al. 2021, RoFormer) in Hugging Face's "rotate_half" layout:
// the pair (x_i, x_{i+d/2}) is rotated by the angle pos·θ_i, θ_i = base^(−2i/d).
// Scaling variants (all change θ_i, yarn also scales cos/sin):
//   linear  θ_i / factor                                   (Chen et al. 2023, position interpolation)
//   dynamic base' = base·(factor·n/n₀ − (factor − 1))^(d/(d−2)) once n = max position + 1 > n₀ (NTK-aware)
//   llama3  long wavelengths (λ > n₀/low) divided by factor, short ones (λ < n₀/high) kept, smooth blend between
//   yarn    (Peng et al. 2023) blend of θ_i and θ_i/factor by a linear ramp over the dims whose rotation
//           count within n₀ lies between beta_slow and beta_fast; cos/sin scaled by 0.1·ln(factor)+1

/// <summary>Rotary frequencies of one model: the inverse frequencies θ_i and the cos/sin scale.</summary>
public sealed class RotaryFrequencies
{
    readonly int _dim;
    readonly double _base;
    readonly RopeScaling? _scaling;
    readonly int _maxPositions;
    readonly double[] _invFreq;

    /// <summary>Frequencies for head width <paramref name="dim"/>, base <paramref name="theta"/> and optional scaling.</summary>
    public RotaryFrequencies(int dim, double theta, RopeScaling? scaling, int maxPositions)
    {
        _dim = dim;
        _base = theta;
        _scaling = scaling;
        _maxPositions = maxPositions;
        (_invFreq, AttentionScaling) = Compute(dim, theta, scaling, maxPositions);
    }

    /// <summary>θ_i for i in [0, d/2) after static scaling (dynamic scaling applies per call in <see cref="InverseFrequencies(long)"/>).</summary>
    public IReadOnlyList<double> InverseFrequencies() => _invFreq;

    /// <summary>Factor on cos and sin (yarn's attention factor; 1 otherwise).</summary>
    public double AttentionScaling { get; }

    /// <summary>θ_i for a forward whose largest position is <paramref name="maxPosition"/> (dynamic NTK grows the base past the original context).</summary>
    public double[] InverseFrequencies(long maxPosition)
    {
        if (_scaling is not { Type: "dynamic" }) return _invFreq;
        long n = maxPosition + 1;
        int n0 = _scaling.OriginalMaxPositions ?? _maxPositions;
        if (n <= n0) return _invFreq;
        double b = _base * Math.Pow(_scaling.Factor * n / n0 - (_scaling.Factor - 1), _dim / (_dim - 2.0));
        return Default(_dim, b);
    }

    /// <summary>
    /// cos and sin of every token's angles pos·θ_i, i &lt; d/2 (θ from the dynamic rule of the call's
    /// largest position), computed in double, times <see cref="AttentionScaling"/>, rounded to float
    /// once — as the TorchSharp RotaryEmbedding.CosSin does. Row r of the tables is token r's d/2 values.
    /// </summary>
    public void CosSin(ReadOnlySpan<int> positions, Span<float> cos, Span<float> sin)
    {
        int half = _dim / 2, maxPos = 0;
        if (cos.Length < positions.Length * half || sin.Length < positions.Length * half)
            throw new DistillSharpException($"rotary tables hold {Math.Min(cos.Length, sin.Length)} values; {positions.Length} tokens need {positions.Length * half}");
        foreach (int p in positions) maxPos = Math.Max(maxPos, p);
        var inv = InverseFrequencies(maxPos);
        for (int r = 0; r < positions.Length; r++)
            for (int i = 0; i < half; i++)
            {
                double angle = (double)positions[r] * inv[i];
                cos[r * half + i] = (float)(Math.Cos(angle) * AttentionScaling);
                sin[r * half + i] = (float)(Math.Sin(angle) * AttentionScaling);
            }
    }

    static double[] Default(int dim, double b) =>
        Enumerable.Range(0, dim / 2).Select(i => 1.0 / Math.Pow(b, 2.0 * i / dim)).ToArray();

    static (double[] InvFreq, double Scale) Compute(int dim, double b, RopeScaling? s, int maxPositions)
    {
        double[] inv = Default(dim, b);
        if (s is null || s.Type == "dynamic") return (inv, 1.0);
        int n0 = s.OriginalMaxPositions ?? maxPositions;
        switch (s.Type)
        {
            case "linear":
                return (inv.Select(f => f / s.Factor).ToArray(), 1.0);
            case "llama3":
            {
                double lowWavelen = n0 / s.LowFreqFactor, highWavelen = n0 / s.HighFreqFactor;
                return (inv.Select(f =>
                {
                    double wavelen = 2 * Math.PI / f;
                    if (wavelen > lowWavelen) return f / s.Factor;
                    if (wavelen < highWavelen) return f;
                    double smooth = (n0 / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    return (1 - smooth) * f / s.Factor + smooth * f;
                }).ToArray(), 1.0);
            }
            default: // yarn
            {
                double CorrectionDim(double rotations) => dim * Math.Log(n0 / (rotations * 2 * Math.PI)) / (2 * Math.Log(b));
                double low = Math.Max(Math.Floor(CorrectionDim(s.BetaFast)), 0);
                double high = Math.Min(Math.Ceiling(CorrectionDim(s.BetaSlow)), dim - 1);
                if (low == high) high += 0.001; // avoid a zero-width ramp
                var result = new double[inv.Length];
                for (int i = 0; i < inv.Length; i++)
                {
                    double ramp = Math.Clamp((i - low) / (high - low), 0, 1);
                    double extrapolation = 1 - ramp; // weight of the unscaled frequency
                    result[i] = inv[i] / s.Factor * (1 - extrapolation) + inv[i] * extrapolation;
                }
                double scale = s.AttentionFactor ?? (s.Factor <= 1 ? 1.0 : 0.1 * Math.Log(s.Factor) + 1.0);
                return (result, scale);
            }
        }
    }
}
