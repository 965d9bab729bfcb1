using System.Diagnostics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>The steps of an <c>Int8Encoder</c> forward pass that its profiler times separately.</summary>
public enum EncoderOp
{
    /// <summary>Embedding lookup + LayerNorm.</summary>
    Embed,
    /// <summary>Dynamic per-token activation quantization (before every int8 GEMM).</summary>
    Quantize,
    /// <summary>Q, K, V projection GEMM.</summary>
    QkvGemm,
    /// <summary>Softmax(QKᵀ/√d)·V.</summary>
    Attention,
    /// <summary>Attention output projection GEMM.</summary>
    AttentionOutputGemm,
    /// <summary>FFN input GEMM (with the fused bias + GELU).</summary>
    FfnInGemm,
    /// <summary>FFN output GEMM.</summary>
    FfnOutGemm,
    /// <summary>Bias + activation passes of the unfused path (and non-GELU activations).</summary>
    BiasActivation,
    /// <summary>Residual + LayerNorm.</summary>
    LayerNorm,
    /// <summary>Scatter to (B, T, H), pooling, normalisation.</summary>
    Pool,
}

/// <summary>
/// Accumulates time per <see cref="EncoderOp"/> while enabled, from a clock in seconds (default the
/// wall clock; a thread-CPU-time clock is robust on a loaded machine when running one thread). A
/// disabled timer costs one branch per op.
/// </summary>
internal sealed class EncoderOpTimer
{
    static readonly Func<double> WallClock = () => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    readonly double[] _seconds = new double[Enum.GetValues<EncoderOp>().Length];
    Func<double> _clock = WallClock;

    public bool Enabled { get; private set; }

    public void Start(Func<double>? clock)
    {
        Array.Clear(_seconds);
        _clock = clock ?? WallClock;
        Enabled = true;
    }

    public double Mark() => Enabled ? _clock() : 0;

    public void Add(EncoderOp op, double mark)
    {
        if (Enabled) _seconds[(int)op] += _clock() - mark;
    }

    /// <summary>Stops and returns seconds per op.</summary>
    public IReadOnlyDictionary<string, double> Stop()
    {
        Enabled = false;
        return Enum.GetValues<EncoderOp>().ToDictionary(op => op.ToString(), op => _seconds[(int)op]);
    }
}
