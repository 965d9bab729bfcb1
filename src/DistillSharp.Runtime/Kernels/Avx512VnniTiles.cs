using System.Runtime.Intrinsics.X86;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// 512-bit <c>vpdpbusd</c> micro-kernels, generated as machine code when the process starts. .NET 10
/// exposes 512-bit VNNI only through <c>Avx10v1.V512</c>, which CPUs such as Sapphire Rapids do not
/// report although they execute the instruction; the 256-bit <c>AvxVnni</c> form does half the
/// multiply-adds per instruction. So on Linux x64 with AVX-512 VNNI we assemble the inner loop
/// ourselves (<see cref="X64Assembler"/>) into executable pages (<see cref="ExecutableCode"/>).
/// </summary>
/// <remarks>
/// <para>A kernel computes raw int32 sums of up to 8 rows × 3 packed weight blocks (48 columns):
/// 24 zmm accumulators (zmm0–23), one zmm per block of weights (zmm28–30, 16 columns × 4 k = one
/// 64-byte group of <see cref="PackedInt8Weights"/>), one broadcast register (zmm31) for each row's
/// four activation bytes. Per 4-deep k step: blocks loads, rows broadcasts, rows × blocks
/// <c>vpdpbusd</c>. One variant per (rows, blocks), 24 in all, so edges need no masking.</para>
/// <para>The zero-point correction is folded into the start: accumulator (r, c) begins at
/// <c>−corr_r·colsum[c]</c> (<c>vpmulld</c>), so the sums it stores are already
/// <c>Σ (a − zp)·w</c> and the epilogue only scales. Argument (System V, rdi): a pointer to
/// <see cref="Args"/>. Only caller-saved registers are touched. The sums are exact int32
/// arithmetic (wrapping like every other kernel's), so results equal every kernel's bit for bit.</para>
/// </remarks>
internal static unsafe class Avx512VnniTiles
{
    /// <summary>Most rows per call.</summary>
    public const int MaxRows = 8;

    /// <summary>Most 16-column weight blocks per call.</summary>
    public const int MaxBlocks = 3;

    /// <summary>Ints between accumulator rows.</summary>
    public const int AccumulatorStride = MaxBlocks * PackedInt8Weights.BlockColumns;

    const int FirstWeightRegister = 28, BroadcastRegister = 31;

    /// <summary>What a kernel reads (field offsets are part of the generated code).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    public struct Args
    {
        /// <summary>First activation row (u8).</summary>
        public byte* A;
        /// <summary>Bytes between activation rows.</summary>
        public nint Lda;
        /// <summary>First packed weight block.</summary>
        public sbyte* B;
        /// <summary>4-deep k groups (≥ 1).</summary>
        public nint KGroups;
        /// <summary>Accumulators, <see cref="AccumulatorStride"/> ints per row.</summary>
        public int* Acc;
        /// <summary>Bytes between weight blocks.</summary>
        public nint BlockStride;
        /// <summary>−(zp − offset) per row.</summary>
        public int* NegCorrections;
        /// <summary>Column sums of the first block (the next blocks follow).</summary>
        public int* ColumnSums;
    }

    static readonly nint[]? Entries = Build();

    /// <summary>True when the CPU has AVX-512 VNNI and the kernels could be placed in executable memory.</summary>
    public static bool IsSupported => Entries is not null;

    /// <summary>CPUID.(EAX=7, ECX=0):ECX bit 11 (AVX512_VNNI), with the OS-enabled AVX-512 state .NET checks.</summary>
    public static bool CpuHasAvx512Vnni => Avx512BW.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    static nint[]? Build()
    {
        if (!ExecutableCode.IsSupported || !CpuHasAvx512Vnni) return null;
        var functions = new List<byte[]>();
        for (int rows = 1; rows <= MaxRows; rows++)
            for (int blocks = 1; blocks <= MaxBlocks; blocks++) functions.Add(Generate(rows, blocks));
        return ExecutableCode.Place(functions);
    }

    /// <summary>The machine code of the (rows, blocks) kernel.</summary>
    public static byte[] Generate(int rows, int blocks)
    {
        if (rows is < 1 or > MaxRows || blocks is < 1 or > MaxBlocks)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows {rows}, blocks {blocks}");
        var asm = new X64Assembler();
        asm.Load(Gpr.Rsi, new Mem(Gpr.Rdi, Disp: 8));
        asm.Load(Gpr.Rdx, new Mem(Gpr.Rdi, Disp: 16));
        asm.Load(Gpr.Rcx, new Mem(Gpr.Rdi, Disp: 24));
        asm.Load(Gpr.R8, new Mem(Gpr.Rdi, Disp: 32));
        asm.Load(Gpr.R9, new Mem(Gpr.Rdi, Disp: 40));
        asm.Load(Gpr.Rax, new Mem(Gpr.Rdi, Disp: 48));
        asm.Load(Gpr.R10, new Mem(Gpr.Rdi, Disp: 56));
        asm.Load(Gpr.Rdi, new Mem(Gpr.Rdi));
        for (int r = 0; r < rows; r++)                         // acc = −corr_r · colsum
        {
            asm.VpbroadcastdZmm(BroadcastRegister, new Mem(Gpr.Rax, Disp: 4 * r));
            for (int c = 0; c < blocks; c++) asm.VpmulldZmm(r * blocks + c, BroadcastRegister, new Mem(Gpr.R10, Disp: 64 * c));
        }
        asm.Lea(Gpr.R10, new Mem(Gpr.Rsi, Gpr.Rsi, 2));       // 3·lda
        asm.Lea(Gpr.R11, new Mem(Gpr.Rdi, Gpr.Rsi, 4));       // row 4
        int loop = asm.Position;
        for (int c = 0; c < blocks; c++)
            asm.Vmovdqu32Load(FirstWeightRegister + c, c == 0 ? new Mem(Gpr.Rdx) : new Mem(Gpr.Rdx, Gpr.R9, c));
        for (int r = 0; r < rows; r++)
        {
            asm.VpbroadcastdZmm(BroadcastRegister, Row(r));
            for (int c = 0; c < blocks; c++) asm.VpdpbusdZmm(r * blocks + c, BroadcastRegister, FirstWeightRegister + c);
        }
        asm.AddImm8(Gpr.Rdi, 4);
        asm.AddImm8(Gpr.R11, 4);
        asm.AddImm8(Gpr.Rdx, 64);
        asm.Dec(Gpr.Rcx);
        asm.JnzBack(loop);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < blocks; c++)
                asm.Vmovdqu32Store(new Mem(Gpr.R8, Disp: (r * AccumulatorStride + c * PackedInt8Weights.BlockColumns) * sizeof(int)), r * blocks + c);
        asm.Vzeroupper();
        asm.Ret();
        return asm.ToArray();
    }

    // Row r's four bytes: rows 0–3 from rdi, 4–7 from r11, at 0, lda, 2·lda, 3·lda.
    static Mem Row(int r)
    {
        var b = r < 4 ? Gpr.Rdi : Gpr.R11;
        return (r % 4) switch
        {
            0 => new Mem(b),
            1 => new Mem(b, Gpr.Rsi, 1),
            2 => new Mem(b, Gpr.Rsi, 2),
            _ => new Mem(b, Gpr.R10, 1),
        };
    }

    /// <summary>The micro-kernel entry in <see cref="Int8KernelRegistry"/> form (corrections folded).</summary>
    public static void Tile(byte* a, nint lda, sbyte* b, int kGroups, int rows, int blocks, nint blockStride, int* acc,
        int* negCorrections, int* columnSums)
    {
        var args = new Args
        {
            A = a, Lda = lda, B = b, KGroups = kGroups, Acc = acc, BlockStride = blockStride,
            NegCorrections = negCorrections, ColumnSums = columnSums,
        };
        var f = (delegate* unmanaged[Cdecl, SuppressGCTransition]<Args*, void>)Entries![(rows - 1) * MaxBlocks + blocks - 1];
        f(&args);
    }
}
