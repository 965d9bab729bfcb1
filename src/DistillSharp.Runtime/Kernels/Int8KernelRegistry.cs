using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace DistillSharp.Runtime.Kernels;

/// <summary>One int8 GEMM micro-kernel: its name, whether this CPU runs it, and its entry point.</summary>
public sealed unsafe class Int8Kernel
{
    internal Int8Kernel(string name, Func<bool> isSupported, int inputOffset, int tileRows, int tileBlocks,
        delegate*<byte*, nint, sbyte*, int, int, int, nint, int*, int*, int*, void> tile, bool foldsCorrection = false,
        int kGroupMultiple = 1, string? fallback = null)
    {
        KGroupMultiple = kGroupMultiple;
        Fallback = fallback;
        FoldsCorrection = foldsCorrection;
        Name = name;
        TileRows = tileRows;
        TileBlocks = tileBlocks;
        _isSupported = isSupported;
        InputOffset = inputOffset;
        Tile = tile;
    }

    readonly Func<bool> _isSupported;

    /// <summary>Registry key, e.g. <c>avx-vnni</c>.</summary>
    public string Name { get; }

    /// <summary>True when this process's CPU and runtime support the kernel.</summary>
    public bool IsSupported => _isSupported();

    /// <summary>0 if the kernel multiplies activation bytes as u8, 128 if it works on a − 128.</summary>
    public int InputOffset { get; }

    /// <summary>Rows per micro-kernel call (the driver passes fewer only at the bottom edge).</summary>
    public int TileRows { get; }

    /// <summary>16-column weight blocks per micro-kernel call (fewer only at the right edge).</summary>
    public int TileBlocks { get; }

    /// <summary>The kernel runs weights whose k-group count is a multiple of this (1 = any K).</summary>
    public int KGroupMultiple { get; }

    /// <summary>Registry name of the kernel the GEMM uses instead for other K (null when <see cref="KGroupMultiple"/> is 1).</summary>
    public string? Fallback { get; }

    /// <summary>This kernel for <paramref name="weights"/> if it can run them, else its fallback (recursively).</summary>
    public Int8Kernel For(PackedInt8Weights weights) =>
        weights.KGroups % KGroupMultiple == 0 || Fallback is null ? this : Int8KernelRegistry.Get(Fallback).For(weights);

    /// <summary>
    /// True when the kernel starts its accumulators at <c>negCorrections[r]·columnSums[c]</c>, so its
    /// sums are already zero-point corrected; the others ignore those two arguments.
    /// </summary>
    public bool FoldsCorrection { get; }

    /// <summary>(activations, row stride, first block, k groups, rows, blocks, bytes between blocks, accumulators,
    /// −(zp − offset) per row, column sums of the first block).</summary>
    internal delegate*<byte*, nint, sbyte*, int, int, int, nint, int*, int*, int*, void> Tile { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// The int8 GEMM micro-kernels by name, in order of preference. <see cref="Best"/> is the first one
/// this CPU supports, unless the environment variable <see cref="EnvironmentVariable"/> names one.
/// </summary>
public static unsafe class Int8KernelRegistry
{
    /// <summary>Environment variable that overrides the automatic choice (tests, benchmarks).</summary>
    public const string EnvironmentVariable = "DISTILLSHARP_INT8_KERNEL";

    static readonly Dictionary<string, Int8Kernel> Kernels = new()
    {
        ["amx-int8"] = new("amx-int8", () => AmxTiles.IsSupported, 0, AmxTiles.MaxRows, AmxTiles.MaxBlocks, &AmxTiles.Tile,
            kGroupMultiple: AmxTiles.KGroupMultiple, fallback: "avx512-vnni"),
        ["avx512-vnni"] = new("avx512-vnni", () => Avx512VnniTiles.IsSupported, 0, Avx512VnniTiles.MaxRows, Avx512VnniTiles.MaxBlocks,
            &Avx512VnniTiles.Tile, foldsCorrection: true),
        ["avx-vnni"] = new("avx-vnni", () => AvxVnni.IsSupported, 0, Avx512F.IsSupported ? 8 : 4, 1, &Int8TileKernels.AvxVnni256),
        ["avx512bw"] = new("avx512bw", () => Avx512BW.IsSupported, 128, 4, 1, &Int8TileKernels.Avx512Sign),
        ["avx2"] = new("avx2", () => Avx2.IsSupported, 128, 4, 1, &Int8TileKernels.Avx2Sign),
        ["arm64-dot"] = new("arm64-dot", () => Dp.IsSupported, 128, 4, 1, &ArmDotTileKernel.Tile),
        ["scalar"] = new("scalar", () => true, 0, 4, 1, &Int8TileKernels.Scalar),
    };

    static readonly string[] Preference = ["amx-int8", "avx512-vnni", "avx-vnni", "avx512bw", "avx2", "arm64-dot", "scalar"];

    /// <summary>Every registered kernel, supported here or not, in order of preference.</summary>
    public static IReadOnlyList<Int8Kernel> All { get; } = Preference.Select(n => Kernels[n]).ToArray();

    /// <summary>The kernels this CPU supports, in order of preference.</summary>
    public static IReadOnlyList<Int8Kernel> Available { get; } = All.Where(k => k.IsSupported).ToArray();

    /// <summary>The kernel picked at startup: the environment override, else the first available.</summary>
    public static Int8Kernel Best => _best ??= Resolve(Environment.GetEnvironmentVariable(EnvironmentVariable));

    static Int8Kernel? _best;

    /// <summary>The kernel named <paramref name="name"/>; fails if unknown or unsupported on this CPU.</summary>
    /// <remarks>A fallback must be supported wherever its kernel is (avx512-vnni wherever amx-int8 is: both need AVX-512 on Linux x64).</remarks>
    public static Int8Kernel Get(string name)
    {
        if (!Kernels.TryGetValue(name, out var kernel))
            throw new DistillSharpException($"Unknown int8 kernel '{name}'; known: {string.Join(", ", Preference)}.");
        if (!kernel.IsSupported)
            throw new DistillSharpException(
                $"Int8 kernel '{name}' is not supported on this CPU; available: {string.Join(", ", Available)}.");
        return kernel;
    }

    /// <summary>
    /// The kernel for an override value: null, empty or <c>auto</c> = the first available kernel,
    /// otherwise <see cref="Get"/>. <see cref="Best"/> is <c>Resolve(env DISTILLSHARP_INT8_KERNEL)</c>.
    /// </summary>
    public static Int8Kernel Resolve(string? requested) =>
        string.IsNullOrWhiteSpace(requested) || requested == "auto" ? Available[0] : Get(requested.Trim());
}
