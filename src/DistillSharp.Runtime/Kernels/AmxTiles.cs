using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Intel AMX int8 micro-kernels (<c>tdpbusd</c>: a 16 × 16 int32 tile += 16 rows × 64 u8 times
/// 64 × 16 s8 per instruction, 16 384 multiply-adds), generated as machine code like
/// <see cref="Avx512VnniTiles"/>; .NET 10 has no AMX intrinsics at all. Linux only: the process
/// must ask the kernel for the tile-data state first (<c>arch_prctl(ARCH_REQ_XCOMP_PERM)</c>).
/// </summary>
/// <remarks>
/// <para>A call computes raw int32 sums of up to 32 rows × 2 packed weight blocks (32 columns) in
/// four C tiles (tmm0–3), from two A tiles (tmm4–5: 16 activation rows × 64 k each, rows lda bytes
/// apart) and two B tiles (tmm6–7). A packed block's 16 consecutive 4-deep k groups are exactly a
/// B tile (16 rows of 16 columns × 4 k, 64 bytes per row), so weights need no repacking; K must be
/// a multiple of 64 (<see cref="KGroupMultiple"/>; the GEMM falls back to another kernel
/// otherwise). A tiles always load 16 rows, so an activation buffer keeps
/// <see cref="QuantizedActivations.SlackRows"/> readable rows past its end; sums of rows past the
/// last real one are stored and ignored.</para>
/// <para>Each call loads the tile configuration and releases the tiles before it returns, so a thread
/// holds no AMX state between calls (no 8 KiB of tile registers to save at every context switch).
/// Argument (System V, rdi): a pointer to <see cref="Args"/>. Sums are exact int32 arithmetic, equal
/// to every kernel's bit for bit.</para>
/// </remarks>
internal static unsafe partial class AmxTiles
{
    /// <summary>Rows per call (two tiles of 16).</summary>
    public const int MaxRows = 32;

    /// <summary>16-column blocks per call.</summary>
    public const int MaxBlocks = 2;

    /// <summary>K groups must come in multiples of this (64 k per tile step).</summary>
    public const int KGroupMultiple = 16;

    const long ArchReqXcompPerm = 0x1023, XfeatureXtileData = 18, SysArchPrctl = 158;

    /// <summary>What a kernel reads (field offsets are part of the generated code).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        /// <summary>First activation row.</summary>
        public byte* A;
        /// <summary>Bytes between activation rows.</summary>
        public nint Lda;
        /// <summary>First packed weight block.</summary>
        public sbyte* B;
        /// <summary>64-deep k steps (K / 64).</summary>
        public nint KSteps;
        /// <summary>Accumulators (row r, column c at byte r·AccStride + 4c).</summary>
        public int* Acc;
        /// <summary>Bytes between weight blocks.</summary>
        public nint BlockStride;
        /// <summary>Bytes between accumulator rows.</summary>
        public nint AccStride;
        /// <summary>The 64-byte tile configuration.</summary>
        public byte* Config;
    }

    static readonly byte* ConfigBlock = MakeConfig();
    static readonly nint[]? Entries = Build();

    /// <summary>True when the CPU has AMX-INT8, the OS granted the tile state and the kernels were placed in executable memory.</summary>
    public static bool IsSupported => Entries is not null;

    /// <summary>CPUID.(EAX=7, ECX=0):EDX bits 24 (AMX-TILE) and 25 (AMX-INT8).</summary>
    public static bool CpuHasAmxInt8 => X86Base.IsSupported && (X86Base.CpuId(7, 0).Edx & (3 << 24)) == 3 << 24;

    // Palette 1; tiles 0–7 all 16 rows × 64 bytes. Pinned for the process's lifetime.
    static byte* MakeConfig()
    {
        var block = (byte*)NativeMemory.AlignedAlloc(64, 64);
        new Span<byte>(block, 64).Clear();
        block[0] = 1;
        for (int t = 0; t < 8; t++)
        {
            ((ushort*)(block + 16))[t] = 64;
            block[48 + t] = 16;
        }
        return block;
    }

    static nint[]? Build()
    {
        if (!ExecutableCode.IsSupported || !CpuHasAmxInt8) return null;
        if (syscall(SysArchPrctl, ArchReqXcompPerm, XfeatureXtileData) != 0) return null;
        var functions = new List<byte[]>();
        for (int rowTiles = 1; rowTiles <= 2; rowTiles++)
            for (int colTiles = 1; colTiles <= 2; colTiles++) functions.Add(Generate(rowTiles, colTiles));
        return ExecutableCode.Place(functions);
    }

    /// <summary>The machine code of the (row tiles, column tiles) kernel.</summary>
    public static byte[] Generate(int rowTiles, int colTiles)
    {
        if (rowTiles is < 1 or > 2 || colTiles is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(rowTiles), $"{rowTiles} × {colTiles} tiles");
        var asm = new X64Assembler();
        asm.Load(Gpr.Rax, new Mem(Gpr.Rdi));                       // A
        asm.Load(Gpr.Rsi, new Mem(Gpr.Rdi, Disp: 8));              // lda
        asm.Load(Gpr.Rdx, new Mem(Gpr.Rdi, Disp: 16));             // B, block 0
        asm.Load(Gpr.Rcx, new Mem(Gpr.Rdi, Disp: 24));             // k steps
        asm.Load(Gpr.R9, new Mem(Gpr.Rdi, Disp: 40));              // block stride
        asm.Load(Gpr.R11, new Mem(Gpr.Rdi, Disp: 56));             // config
        asm.Ldtilecfg(new Mem(Gpr.R11));
        asm.Lea(Gpr.R8, new Mem(Gpr.Rdx, Gpr.R9, 1));               // B, block 1
        asm.Lea(Gpr.R11, new Mem(Gpr.Rax, Gpr.Rsi, 8));
        asm.Lea(Gpr.R11, new Mem(Gpr.R11, Gpr.Rsi, 8));             // A, row 16
        asm.MovImm32(Gpr.R10, 64);                                  // B tile row stride
        for (int r = 0; r < rowTiles; r++)
            for (int c = 0; c < colTiles; c++) asm.Tilezero(2 * r + c);
        int loop = asm.Position;
        asm.Tileloadd(4, new Mem(Gpr.Rax, Gpr.Rsi));
        if (rowTiles == 2) asm.Tileloadd(5, new Mem(Gpr.R11, Gpr.Rsi));
        asm.Tileloadd(6, new Mem(Gpr.Rdx, Gpr.R10));
        if (colTiles == 2) asm.Tileloadd(7, new Mem(Gpr.R8, Gpr.R10));
        for (int r = 0; r < rowTiles; r++)
            for (int c = 0; c < colTiles; c++) asm.Tdpbusd(2 * r + c, 4 + r, 6 + c);
        asm.AddImm8(Gpr.Rax, 64);
        asm.AddImm8(Gpr.R11, 64);
        asm.AddImm32(Gpr.Rdx, 1024);
        asm.AddImm32(Gpr.R8, 1024);
        asm.Dec(Gpr.Rcx);
        asm.JnzBack(loop);
        asm.Load(Gpr.R8, new Mem(Gpr.Rdi, Disp: 32));              // acc
        asm.Load(Gpr.R10, new Mem(Gpr.Rdi, Disp: 48));             // acc row stride
        asm.Lea(Gpr.R11, new Mem(Gpr.R8, Gpr.R10, 8));
        asm.Lea(Gpr.R11, new Mem(Gpr.R11, Gpr.R10, 8));             // acc, row 16
        for (int r = 0; r < rowTiles; r++)
            for (int c = 0; c < colTiles; c++) asm.Tilestored(new Mem(r == 0 ? Gpr.R8 : Gpr.R11, Gpr.R10, 1, 64 * c), 2 * r + c);
        asm.Tilerelease();
        asm.Ret();
        return asm.ToArray();
    }

    /// <summary>The micro-kernel entry in <see cref="Int8KernelRegistry"/> form (kGroups a multiple of <see cref="KGroupMultiple"/>).</summary>
    public static void Tile(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        var args = new Args
        {
            A = a, Lda = lda, B = b, KSteps = kGroups / KGroupMultiple, Acc = acc, BlockStride = blockStride,
            AccStride = MaxBlocks * PackedInt8Weights.BlockColumns * sizeof(int), Config = ConfigBlock,
        };
        var f = (delegate* unmanaged[Cdecl, SuppressGCTransition]<Args*, void>)Entries![(rows > 16 ? 2 : 0) + blocks - 1];
        f(&args);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long a, long b);
}
