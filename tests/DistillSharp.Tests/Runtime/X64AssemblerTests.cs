using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

/// <summary>
/// The assembler behind the generated AVX-512 VNNI and AMX kernels, byte for byte against GNU as 2.40
/// (`as --64` on the same instructions in Intel syntax, memory operands with <c>{disp32}</c>,
/// printed by objdump -d), and the generated kernel's shape.
/// </summary>
public class X64AssemblerTests
{
    [Fact]
    public void Encodings_equal_gnu_as()
    {
        var a = new X64Assembler();
        a.VpdpbusdZmm(0, 31, 28);
        a.VpdpbusdZmm(23, 31, 30);
        a.VpdpbusdZmm(9, 17, 5);
        a.VpbroadcastdZmm(31, new Mem(Gpr.Rdi));
        a.VpbroadcastdZmm(31, new Mem(Gpr.Rdi, Gpr.Rsi, 2, 0x10));
        a.VpbroadcastdZmm(31, new Mem(Gpr.R11, Gpr.R10, 1, 0x100));
        a.Vmovdqu32Load(28, new Mem(Gpr.Rdx, Disp: 0x40));
        a.Vmovdqu32Load(29, new Mem(Gpr.Rdx, Gpr.R9, 1));
        a.Vmovdqu32Load(30, new Mem(Gpr.Rdx, Gpr.R9, 2));
        a.Vmovdqu32Store(new Mem(Gpr.R8, Disp: 0x5c0), 23);
        a.Vmovdqu32Store(new Mem(Gpr.R8), 0);
        a.VpxordZmm(5, 5, 5);
        a.VpxordZmm(23, 23, 23);
        a.AddImm8(Gpr.Rdi, 4);
        a.AddImm8(Gpr.R11, 4);
        a.AddImm8(Gpr.Rdx, 64);
        a.Dec(Gpr.Rcx);
        a.Lea(Gpr.R10, new Mem(Gpr.Rsi, Gpr.Rsi, 2));
        a.Lea(Gpr.R11, new Mem(Gpr.Rdi, Gpr.Rsi, 4));
        a.Test(Gpr.Rcx, Gpr.Rcx);
        a.Vzeroupper();
        a.Ret();
        a.Load(Gpr.Rsi, new Mem(Gpr.Rdi, Disp: 8));
        a.Load(Gpr.R10, new Mem(Gpr.Rdi, Disp: 56));
        a.Load(Gpr.Rdi, new Mem(Gpr.Rdi));
        a.VpmulldZmm(5, 31, new Mem(Gpr.R10, Disp: 64));
        a.VpmulldZmm(23, 31, new Mem(Gpr.R10));
        const string Gnu =
            "62920540" + "50c4" + "62820540" + "50fe" + "62727540" + "50cd" +
            "62627d4858bf00000000" + "62627d4858bc7710000000" + "62027d4858bc1300010000" +
            "62617e486fa240000000" + "62217e486fac0a00000000" + "62217e486fb44a00000000" +
            "62c17e487fb8c0050000" + "62d17e487f8000000000" +
            "62f15548efed" + "62a14540efff" +
            "4883c704" + "4983c304" + "4883c240" + "48ffc9" +
            // lea with {disp32}: mod 10 and a zero displacement (as prints the same instruction)
            "4c8d947600000000" + "4c8d9cb700000000" +
            "4885c9" + "c5f877" + "c3" +
            "488bb708000000" + "4c8b9738000000" + "488bbf00000000" +
            "62d2054040aa40000000" + "62c2054040ba00000000";
        Assert.Equal(Gnu, Convert.ToHexString(a.ToArray()).ToLowerInvariant());
    }

    [Fact]
    public void Amx_encodings_equal_gnu_as()
    {
        var a = new X64Assembler();
        a.Ldtilecfg(new Mem(Gpr.Rax));
        a.Tilerelease();
        a.Tilezero(0);
        a.Tilezero(3);
        a.Tileloadd(4, new Mem(Gpr.Rax, Gpr.Rsi));
        a.Tileloadd(5, new Mem(Gpr.R11, Gpr.Rsi));
        a.Tileloadd(6, new Mem(Gpr.Rdx, Gpr.R10));
        a.Tileloadd(7, new Mem(Gpr.R8, Gpr.R10));
        a.Tdpbusd(0, 4, 6);
        a.Tdpbusd(3, 5, 7);
        a.Tdpbusd(1, 4, 7);
        a.Tilestored(new Mem(Gpr.Rdi, Gpr.R9), 0);
        a.Tilestored(new Mem(Gpr.Rdi, Gpr.R9, 1, 64), 1);
        a.Tilestored(new Mem(Gpr.Rbx, Gpr.R9), 2);
        a.AddImm8(Gpr.Rax, 64);
        a.AddImm32(Gpr.R8, 1024);
        a.MovImm32(Gpr.R10, 64);
        const string Gnu =
            "c4e278498000000000" + "c4e27849c0" + "c4e27b49c0" + "c4e27b49d8" +
            "c4e27b4ba43000000000" + "c4c27b4bac3300000000" + "c4a27b4bb41200000000" + "c4827b4bbc1000000000" +
            "c4e2495ec4" + "c4e2415edd" + "c4e2415ecc" +
            "c4a27a4b840f00000000" + "c4a27a4b8c0f40000000" + "c4a27a4b940b00000000" +
            "4883c040" + "4981c000040000" + "49c7c240000000";
        Assert.Equal(Gnu, Convert.ToHexString(a.ToArray()).ToLowerInvariant());
        Assert.Throws<ArgumentException>(() => a.Tileloadd(4, new Mem(Gpr.Rax)));   // a tile load needs a stride register
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Tilezero(8));
    }

    [Fact]
    public void Backward_jump_lands_on_the_loop_start()
    {
        var a = new X64Assembler();
        int top = a.Position;
        a.Dec(Gpr.Rcx);
        a.JnzBack(top);
        var code = a.ToArray();
        Assert.Equal([0x48, 0xFF, 0xC9, 0x0F, 0x85], code[..5]);
        Assert.Equal(-9, BitConverter.ToInt32(code, 5)); // from the end of the 9-byte sequence back to 0
    }

    [Fact]
    public void Every_kernel_variant_ends_with_vzeroupper_and_ret()
    {
        for (int rows = 1; rows <= Avx512VnniTiles.MaxRows; rows++)
            for (int blocks = 1; blocks <= Avx512VnniTiles.MaxBlocks; blocks++)
            {
                var code = Avx512VnniTiles.Generate(rows, blocks);
                Assert.Equal([0xC5, 0xF8, 0x77, 0xC3], code[^4..]);
                // rows × blocks vpdpbusd (opcode 0x50 after a 62 xx xx xx prefix) in the loop body
                int vnni = Enumerable.Range(0, code.Length - 5).Count(i => code[i] == 0x62 && code[i + 4] == 0x50 && code[i + 5] >= 0xC0);
                Assert.Equal(rows * blocks, vnni);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => Avx512VnniTiles.Generate(9, 1));
        for (int rows = 1; rows <= 2; rows++)
            for (int cols = 1; cols <= 2; cols++)
            {
                var code = AmxTiles.Generate(rows, cols);
                Assert.Equal([0xC4, 0xE2, 0x78, 0x49, 0xC0, 0xC3], code[^6..]);   // tilerelease; ret
                int dp = Enumerable.Range(0, code.Length - 4).Count(i => code[i] == 0xC4 && code[i + 1] == 0xE2 && code[i + 3] == 0x5E);
                Assert.Equal(rows * cols, dp);
            }
    }
}
