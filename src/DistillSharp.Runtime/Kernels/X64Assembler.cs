namespace DistillSharp.Runtime.Kernels;

/// <summary>x86-64 general-purpose registers by encoding number.</summary>
internal enum Gpr { Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15 }

/// <summary>A memory operand <c>[base + index·scale + disp]</c> (index optional; base must not be rsp or r12).</summary>
internal readonly record struct Mem(Gpr Base, Gpr? Index = null, int Scale = 1, int Disp = 0);

/// <summary>
/// A minimal x86-64 assembler for the handful of instructions our generated int8 kernels use: the
/// ones .NET 10 does not expose on CPUs without AVX10 (512-bit <c>vpdpbusd</c>; AMX tile loads,
/// stores and <c>tdpbusd</c>), the vector moves around them and the loops' integer bookkeeping. Every memory operand is encoded with a
/// 32-bit displacement (ModRM mod = 10), so EVEX's scaled 8-bit displacements never arise; the
/// bytes equal GNU as 2.40's output with <c>{disp32}</c> (tested).
/// </summary>
/// <remarks>
/// EVEX prefix (Intel SDM vol. 2, 2.7): <c>62 P0 P1 P2</c> with P0 = R̄ X̄ B̄ R̄′ 0 0 m m, P1 = W v̄v̄v̄v̄ 1 p p,
/// P2 = z L′L b V̄′ a a a. Register numbers 0–31: bit 3 goes to R̄/B̄ (inverted), bit 4 to R̄′/X̄
/// (register-direct r/m) or V̄′.
/// </remarks>
internal sealed class X64Assembler
{
    readonly List<byte> _code = [];

    /// <summary>Bytes emitted so far.</summary>
    public int Position => _code.Count;

    /// <summary>The machine code.</summary>
    public byte[] ToArray() => _code.ToArray();

    /// <summary><c>vpdpbusd zmm<paramref name="dst"/>, zmm<paramref name="unsignedSrc"/>, zmm<paramref name="signedSrc"/></c>: dst += Σ4 u8·s8 per int32 lane.</summary>
    public void VpdpbusdZmm(int dst, int unsignedSrc, int signedSrc) => EvexRegister(0x50, mm: 2, pp: 1, dst, unsignedSrc, signedSrc);

    /// <summary><c>vpxord zmm<paramref name="dst"/>, zmm<paramref name="a"/>, zmm<paramref name="b"/></c>.</summary>
    public void VpxordZmm(int dst, int a, int b) => EvexRegister(0xEF, mm: 1, pp: 1, dst, a, b);

    /// <summary><c>vpbroadcastd zmm<paramref name="dst"/>, dword [m]</c>.</summary>
    public void VpbroadcastdZmm(int dst, Mem m) => EvexMemory(0x58, mm: 2, pp: 1, dst, 0, m);

    /// <summary><c>vpmulld zmm<paramref name="dst"/>, zmm<paramref name="a"/>, zmmword [m]</c> (low 32 bits of each product).</summary>
    public void VpmulldZmm(int dst, int a, Mem m) => EvexMemory(0x40, mm: 2, pp: 1, dst, a, m);

    /// <summary><c>vmovdqu32 zmm<paramref name="dst"/>, zmmword [m]</c>.</summary>
    public void Vmovdqu32Load(int dst, Mem m) => EvexMemory(0x6F, mm: 1, pp: 2, dst, 0, m);

    /// <summary><c>vmovdqu32 zmmword [m], zmm<paramref name="src"/></c>.</summary>
    public void Vmovdqu32Store(Mem m, int src) => EvexMemory(0x7F, mm: 1, pp: 2, src, 0, m);

    /// <summary><c>mov r64, qword [m]</c>.</summary>
    public void Load(Gpr dst, Mem m)
    {
        Rex(w: true, reg: (int)dst, index: m.Index is { } i ? (int)i : 0, rm: (int)m.Base);
        Emit(0x8B);
        MemoryOperand((int)dst, m);
    }

    /// <summary><c>ldtilecfg [m]</c> (AMX): loads the 64-byte tile configuration.</summary>
    public void Ldtilecfg(Mem m) => Vex0F38(0x49, pp: 0, reg: 0, vvvv: 0, m);

    /// <summary><c>tilerelease</c> (AMX): returns the tiles to their initial state.</summary>
    public void Tilerelease() => Emit(0xC4, 0xE2, 0x78, 0x49, 0xC0);

    /// <summary><c>tilezero tmm<paramref name="t"/></c>.</summary>
    public void Tilezero(int t) => Emit(0xC4, 0xE2, 0x7B, 0x49, (byte)(0xC0 | CheckTile(t) << 3));

    /// <summary><c>tileloadd tmm<paramref name="t"/>, [base + index·1 + disp]</c>: rows of the tile are index bytes apart.</summary>
    public void Tileloadd(int t, Mem m) => Vex0F38(0x4B, pp: 3, CheckTile(t), vvvv: 0, RequireIndex(m));

    /// <summary><c>tilestored [base + index·1 + disp], tmm<paramref name="t"/></c>.</summary>
    public void Tilestored(Mem m, int t) => Vex0F38(0x4B, pp: 2, CheckTile(t), vvvv: 0, RequireIndex(m));

    /// <summary><c>tdpbusd tmm<paramref name="dst"/>, tmm<paramref name="unsignedA"/>, tmm<paramref name="signedB"/></c>: dst += A (u8) · B (s8), four products per int32.</summary>
    public void Tdpbusd(int dst, int unsignedA, int signedB) =>
        Emit(0xC4, 0xE2, (byte)(((~CheckTile(signedB) & 15) << 3) | 0b01), 0x5E, ModRm(3, CheckTile(dst), CheckTile(unsignedA)));

    /// <summary><c>add r64, imm32</c> (sign-extended).</summary>
    public void AddImm32(Gpr r, int imm)
    {
        Rex(w: true, reg: 0, index: 0, rm: (int)r);
        Emit(0x81, ModRm(3, 0, (int)r));
        Emit32(imm);
    }

    /// <summary><c>mov r64, imm32</c> (sign-extended).</summary>
    public void MovImm32(Gpr r, int imm)
    {
        Rex(w: true, reg: 0, index: 0, rm: (int)r);
        Emit(0xC7, ModRm(3, 0, (int)r));
        Emit32(imm);
    }

    /// <summary><c>add r64, imm8</c>.</summary>
    public void AddImm8(Gpr r, sbyte imm)
    {
        Rex(w: true, reg: 0, index: 0, rm: (int)r);
        Emit(0x83, ModRm(3, 0, (int)r), (byte)imm);
    }

    /// <summary><c>dec r64</c>.</summary>
    public void Dec(Gpr r)
    {
        Rex(w: true, reg: 0, index: 0, rm: (int)r);
        Emit(0xFF, ModRm(3, 1, (int)r));
    }

    /// <summary><c>lea r64, [m]</c>.</summary>
    public void Lea(Gpr dst, Mem m)
    {
        Rex(w: true, reg: (int)dst, index: m.Index is { } i ? (int)i : 0, rm: (int)m.Base);
        Emit(0x8D);
        MemoryOperand((int)dst, m);
    }

    /// <summary><c>test r64, r64</c>.</summary>
    public void Test(Gpr a, Gpr b)
    {
        Rex(w: true, reg: (int)b, index: 0, rm: (int)a);
        Emit(0x85, ModRm(3, (int)b, (int)a));
    }

    /// <summary><c>jnz</c> back to <paramref name="target"/> (a <see cref="Position"/>), rel32.</summary>
    public void JnzBack(int target)
    {
        int rel = target - (Position + 6);
        Emit(0x0F, 0x85);
        Emit32(rel);
    }

    /// <summary><c>vzeroupper</c>.</summary>
    public void Vzeroupper() => Emit(0xC5, 0xF8, 0x77);

    /// <summary><c>ret</c>.</summary>
    public void Ret() => Emit(0xC3);

    // Three-byte VEX, map 0F38, W0, L0 (C4 R̄X̄B̄ 00010, W v̄v̄v̄v̄ L pp); memory operand after the opcode.
    void Vex0F38(byte opcode, int pp, int reg, int vvvv, Mem m)
    {
        int r = (~reg >> 3) & 1, x = ~(m.Index is { } i ? (int)i >> 3 : 0) & 1, b = ~((int)m.Base >> 3) & 1;
        Emit(0xC4, (byte)((r << 7) | (x << 6) | (b << 5) | 0b00010), (byte)(((~vvvv & 15) << 3) | pp), opcode);
        MemoryOperand(reg, m);
    }

    static Mem RequireIndex(Mem m) => m.Index is null || m.Scale != 1
        ? throw new ArgumentException("tile loads and stores take [base + stride·1 + disp]") : m;

    static int CheckTile(int t) => (uint)t <= 7 ? t : throw new ArgumentOutOfRangeException(nameof(t), t, "tile registers are tmm0-7");

    void EvexRegister(byte opcode, int mm, int pp, int reg, int vvvv, int rm)
    {
        Check(reg); Check(vvvv); Check(rm);
        Evex(mm, pp, reg, vvvv, rmBit3: (rm >> 3) & 1, xBit: (rm >> 4) & 1);
        Emit(opcode, ModRm(3, reg, rm));
    }

    // vvvv = 0 for instructions without a second register source (encoded as "unused").
    void EvexMemory(byte opcode, int mm, int pp, int reg, int vvvv, Mem m)
    {
        Check(reg); Check(vvvv);
        Evex(mm, pp, reg, vvvv, rmBit3: ((int)m.Base >> 3) & 1, xBit: m.Index is { } i ? ((int)i >> 3) & 1 : 0);
        Emit(opcode);
        MemoryOperand(reg, m);
    }

    // 512-bit (L'L = 10), W0, no masking, no broadcast; vvvv = 0 is also what "unused" encodes (1111 inverted).
    void Evex(int mm, int pp, int reg, int vvvv, int rmBit3, int xBit)
    {
        int r = (~reg >> 3) & 1, rPrime = (~reg >> 4) & 1, x = ~xBit & 1, b = ~rmBit3 & 1;
        Emit(0x62,
            (byte)((r << 7) | (x << 6) | (b << 5) | (rPrime << 4) | mm),
            (byte)(((~vvvv & 15) << 3) | 0b100 | pp),
            (byte)(0b0100_0000 | (((~vvvv >> 4) & 1) << 3)));
    }

    // ModRM mod = 10 (disp32); a SIB byte when there is an index.
    void MemoryOperand(int reg, Mem m)
    {
        if (m.Base is Gpr.Rsp or Gpr.R12) throw new ArgumentException("rsp/r12 as a base needs a SIB byte this assembler does not emit");
        if (m.Index is { } index)
        {
            if (index == Gpr.Rsp) throw new ArgumentException("rsp cannot be an index");
            int scale = m.Scale switch { 1 => 0, 2 => 1, 4 => 2, 8 => 3, _ => throw new ArgumentException($"scale {m.Scale}") };
            Emit(ModRm(2, reg, 0b100), (byte)((scale << 6) | (((int)index & 7) << 3) | ((int)m.Base & 7)));
        }
        else Emit(ModRm(2, reg, (int)m.Base));
        Emit32(m.Disp);
    }

    void Rex(bool w, int reg, int index, int rm)
    {
        int rex = 0x40 | (w ? 8 : 0) | (((reg >> 3) & 1) << 2) | (((index >> 3) & 1) << 1) | ((rm >> 3) & 1);
        if (rex != 0x40) Emit((byte)rex);
    }

    static byte ModRm(int mod, int reg, int rm) => (byte)((mod << 6) | ((reg & 7) << 3) | (rm & 7));

    static void Check(int zmm)
    {
        if ((uint)zmm > 31) throw new ArgumentOutOfRangeException(nameof(zmm), zmm, "zmm registers are 0-31");
    }

    void Emit(params byte[] bytes) => _code.AddRange(bytes);

    void Emit32(int v) => Emit((byte)v, (byte)(v >> 8), (byte)(v >> 16), (byte)(v >> 24));
}
