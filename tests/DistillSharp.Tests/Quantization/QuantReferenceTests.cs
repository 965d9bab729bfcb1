using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Tests.Quantization;

public class QuantReferenceTests
{
    [Fact]
    public void SymmetricInt8ScaleIsAbsMaxOver127()
    {
        // Hand: range [-1, 2] → amax 2 → scale 2/127, zero point 0, integers [-127, 127].
        var p = QuantReference.ChooseQParams(-1f, 2f, QuantSpec.Int8Symmetric);
        Assert.Equal(2f / 127f, p.Scale);
        Assert.Equal(0, p.ZeroPoint);
        Assert.Equal((-127, 127), (p.QMin, p.QMax));
        Assert.Equal(new[] { 127, -64, 0 }, QuantReference.Quantize([2f, -1f, 0f], p));   // -1/(2/127) = -63.5 → -64 (half to even)
    }

    [Fact]
    public void RoundsHalfToEvenAndClamps()
    {
        // Hand: scale 1 (range ±127); ties 0.5→0, 1.5→2, 2.5→2, -0.5→0, -1.5→-2; ±200 clamp to ±127 (never -128).
        var p = QuantReference.ChooseQParams(-127f, 127f, QuantSpec.Int8Symmetric);
        Assert.Equal(1f, p.Scale);
        var q = QuantReference.Quantize([0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 200f, -200f], p);
        Assert.Equal(new[] { 0, 2, 2, 0, -2, 127, -127 }, q);
        Assert.Equal(new[] { 0f, 2f, 2f, 0f, -2f, 127f, -127f }, QuantReference.Dequantize(q, p));
    }

    [Fact]
    public void AsymmetricUInt8UsesZeroPoint()
    {
        // Hand: [-1, 2] → scale 3/255, zero point 0 - round(-1 / (3/255)) = 85; -1 → 0, 2 → 255, 0 → 85.
        var p = QuantReference.ChooseQParams(-1f, 2f, QuantSpec.UInt8Asymmetric);
        Assert.Equal(3f / 255f, p.Scale);
        Assert.Equal(85, p.ZeroPoint);
        Assert.Equal(new[] { 0, 255, 85 }, QuantReference.Quantize([-1f, 2f, 0f], p));
        Assert.Equal(0f, QuantReference.DequantizeValue(85, p.Scale, p.ZeroPoint));
    }

    [Fact]
    public void RangeIsWidenedToIncludeZero()
    {
        // Hand: [1, 3] asymmetric → [0, 3]: zero point 0, scale 3/255.
        var p = QuantReference.ChooseQParams(1f, 3f, QuantSpec.UInt8Asymmetric);
        Assert.Equal(0, p.ZeroPoint);
        Assert.Equal(3f / 255f, p.Scale);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AllZeroRangeGivesPositiveScaleAndExactZeros(bool symmetric)
    {
        var p = QuantReference.ChooseQParams(0f, 0f, new QuantSpec(8, symmetric));
        Assert.Equal(QuantReference.MinScale, p.Scale);
        var x = QuantReference.FakeQuantize(new float[5], [5], p);
        Assert.All(x, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void NonFiniteRangeIsRejected()
    {
        var e = Assert.Throws<DistillSharpException>(() => QuantReference.ChooseQParams(float.NaN, 1f, QuantSpec.Int8Symmetric));
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void FourBitRanges()
    {
        // Hand: symmetric 4-bit = [-7, 7]; ±7 → scale 1; 7.6 → 7 (clamp of 8), -9 → -7. Asymmetric 4-bit = [0, 15].
        var p = QuantReference.ChooseQParams(-7f, 7f, new QuantSpec(4));
        Assert.Equal(new[] { 7, -7, 3 }, QuantReference.Quantize([7.6f, -9f, 3.2f], p));
        var a = QuantReference.ChooseQParams(0f, 15f, new QuantSpec(4, false));
        Assert.Equal((0, 15, 1f), (a.QMin, a.QMax, a.Scale));
    }

    [Fact]
    public void PerChannelUsesOneScalePerRow()
    {
        // Hand: rows [1, -2] and [3, 0.5] → scales 2/127 and 3/127; row 0 -2 → -127, row 1 3 → 127, 0.5/(3/127) = 21.17 → 21.
        var spec = QuantSpec.Int8PerChannel(0);
        var p = QuantReference.ChooseQParams([-2f, 0.5f], [1f, 3f], spec);
        var q = QuantReference.Quantize([1f, -2f, 3f, 0.5f], [2, 2], p);
        Assert.Equal(new[] { 64, -127, 127, 21 }, q);   // 1/(2/127) = 63.5 → 64 (half to even)
    }

    [Fact]
    public void Int4PackingNibbleOrder()
    {
        // Hand: row [1, -1, 7] → byte0 = low 0x1 | high 0xF (-1 two's complement) = 0xF1, byte1 = 0x07 (odd tail, high 0).
        var packed = Int4Packing.Pack([1, -1, 7, -7, 0, 2], rows: 2, cols: 3, signed: true);
        Assert.Equal(new byte[] { 0xF1, 0x07, 0x09, 0x02 }, packed);
        Assert.Equal(new[] { 1, -1, 7, -7, 0, 2 }, Int4Packing.Unpack(packed, 2, 3, signed: true));
        Assert.Throws<ArgumentException>(() => Int4Packing.Pack([9], 1, 1, signed: true));
    }

    [Fact]
    public void SpecRejectsUnsupportedBits()
    {
        var e = Assert.Throws<DistillSharpException>(() => new QuantSpec(6).Validate());
        Assert.Contains("8 or 4", e.Message);
    }
}
