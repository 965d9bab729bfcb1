
namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// The compute objects one <c>Int8Encoder</c> owns: one kernel thread pool shared by the
/// int8 GEMM and everything else (so every job finds the same, already spinning workers), the reusable per-call job objects and the
/// quantized-activation buffers (one per input width). Owning them means a forward pass allocates
/// nothing once the buffers have grown to the batch shape.
/// </summary>
internal sealed class EncoderKernels : IDisposable
{
    readonly QuantizedActivations[] _activations;

    public EncoderKernels(int threads, string? kernel, bool fuse, ActivationQuantization scheme, IEnumerable<int> inputWidths)
    {
        Fuse = fuse;
        Pool = threads > 1 ? new KernelThreadPool(threads) : null;
        Int8 = new Int8Gemm(kernel, Pool);
        Rows = new RowKernels(Pool);
        Quantizer = new ParallelQuantizer(Pool);
        Attention = new AttentionKernel(Pool);
        _activations = inputWidths.Distinct().Select(cols => new QuantizedActivations(0, cols, scheme)).ToArray();
        PerRowActivations = ActivationQuantizer.IsPerRow(scheme);
    }

    /// <summary>True unless activations are quantized per tensor (then a GEMM cannot quantize its own output rows).</summary>
    public bool PerRowActivations { get; }

    /// <summary>Fused epilogues (bias+GELU in the GEMM, residual+LayerNorm in one kernel) or separate passes.</summary>
    public bool Fuse { get; }

    /// <summary>The int8 GEMM.</summary>
    public Int8Gemm Int8 { get; }

    /// <summary>Pool for every kernel (int8 and fp32 GEMM, attention, row kernels); null with one thread.</summary>
    public KernelThreadPool? Pool { get; }

    /// <summary>Job state of the fp32 GEMM.</summary>
    public Fp32Gemm.Job Fp32Job { get; } = new();

    /// <summary>Dynamic activation quantization over the pool.</summary>
    public ParallelQuantizer Quantizer { get; }

    /// <summary>Row-wise kernels.</summary>
    public RowKernels Rows { get; }

    /// <summary>Per-op timing (off unless profiling).</summary>
    public EncoderOpTimer Timer { get; } = new();

    /// <summary>Attention.</summary>
    public AttentionKernel Attention { get; }

    /// <summary>The quantized-activation buffer for inputs of <paramref name="cols"/> features.</summary>
    public QuantizedActivations Activations(int cols)
    {
        foreach (var a in _activations)
            if (a.Cols == cols) return a;
        throw new InvalidOperationException($"no activation buffer for width {cols}");
    }

    public void Dispose()
    {
        Int8.Dispose();
        Pool?.Dispose();
    }
}
