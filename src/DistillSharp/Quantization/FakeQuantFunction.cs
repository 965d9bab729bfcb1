using static TorchSharp.torch;
using static TorchSharp.torch.autograd;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// Fake quantization with a straight-through estimator (Bengio et al. 2013; Jacob et al. 2018):
/// forward x̂ = (clamp(round(x / s) + zp, qmin, qmax) − zp) · s, exactly
/// <see cref="QuantReference.FakeQuantize"/>; backward passes the gradient where
/// round(x / s) + zp lies inside [qmin, qmax] and zeroes it where the value was clamped.
/// Scale and zero point are constants here (observers choose them); see <see cref="LsqFunction"/>
/// for a learned scale. torch.fake_quantize_* are not usable from TorchSharp 0.107.
/// </summary>
public sealed class FakeQuantFunction : SingleTensorFunction<FakeQuantFunction>
{
    /// <inheritdoc/>
    public override string Name => "DistillSharpFakeQuant";

    /// <summary>Fake-quantizes <paramref name="x"/> with per-tensor or per-channel parameters.</summary>
    public static Tensor Apply(Tensor x, QuantParams p)
    {
        using var scope = NewDisposeScope();
        var (scale, zeroPoint) = TensorQuant.Broadcastable(p, x);
        return apply(x, scale, zeroPoint, p.QMin, p.QMax).MoveToOuterDisposeScope();
    }

    /// <summary>vars: x, scale (broadcastable), zero point (broadcastable, float), qmin (int), qmax (int).</summary>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var scale = (Tensor)vars[1];
        var zeroPoint = (Tensor)vars[2];
        int qmin = (int)vars[3], qmax = (int)vars[4];
        using var scope = NewDisposeScope();
        var q = (x / scale).round_().add_(zeroPoint);               // same op order as TensorQuant
        var inside = q.ge(qmin).logical_and_(q.le(qmax));
        ctx.save_for_backward([inside.MoveToOuterDisposeScope()]);
        return q.clamp_(qmin, qmax).sub_(zeroPoint).mul_(scale).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var inside = ctx.get_saved_variables()[0];
        return [gradOutput * inside, null!, null!, null!, null!];
    }
}
