using DistillSharp.Quantization;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

/// <summary>The tensor path must equal the scalar reference exactly (integers and float bits).</summary>
public class TensorQuantTests
{
    public static TheoryData<int, bool, int> Specs => new()
    {
        { 8, true, -1 }, { 8, false, -1 }, { 8, true, 0 }, { 8, false, 1 }, { 4, true, 0 }, { 4, false, -1 },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void TensorPathEqualsScalarReference(int bits, bool symmetric, int axis)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x = randn(6, 40) * 3;
        // Plant exact ties: multiples of half a step land on .5 and exercise half-to-even.
        var spec = new QuantSpec(bits, symmetric, axis);
        var (mins, maxs) = TensorQuant.MinMax(x, axis);
        var p = axis < 0 ? QuantReference.ChooseQParams(mins[0], maxs[0], spec) : QuantReference.ChooseQParams(mins, maxs, spec);
        if (axis < 0) x[0, TensorIndex.Slice(0, 10)] = arange(10, dtype: ScalarType.Float32) * (p.Scale * 0.5f);
        var flat = TensorQuant.ToFloatArray(x);

        var qScalar = QuantReference.Quantize(flat, x.shape, p);
        var qTensor = TensorQuant.ToIntArray(TensorQuant.Quantize(x, p));
        Assert.Equal(qScalar, qTensor);

        var dScalar = QuantReference.Dequantize(qScalar, x.shape, p);
        var dTensor = TensorQuant.ToFloatArray(TensorQuant.Dequantize(TensorQuant.Quantize(x, p), p));
        Assert.Equal(dScalar.Select(BitConverter.SingleToInt32Bits), dTensor.Select(BitConverter.SingleToInt32Bits));
        var fake = TensorQuant.ToFloatArray(TensorQuant.FakeQuantize(x, p));
        Assert.Equal(dScalar.Select(BitConverter.SingleToInt32Bits), fake.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void QuantizedDtypeFollowsSignedness()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1f, 0f, 2f });
        Assert.Equal(ScalarType.Int8, TensorQuant.Quantize(x, QuantReference.ChooseQParams(-1, 2, QuantSpec.Int8Symmetric)).dtype);
        Assert.Equal(ScalarType.Byte, TensorQuant.Quantize(x, QuantReference.ChooseQParams(-1, 2, QuantSpec.UInt8Asymmetric)).dtype);
    }
}
