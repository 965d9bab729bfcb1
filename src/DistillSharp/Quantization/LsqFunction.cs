using static TorchSharp.torch;
using static TorchSharp.torch.autograd;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// Learned Step Size Quantization (Esser et al., "Learned Step Size Quantization", ICLR 2020),
/// zero point 0: forward v̂ = round(clamp(v / s, qmin, qmax)) · s (equal to
/// <see cref="QuantReference.FakeQuantize"/> with the same scale). Backward (paper eq. 3, with
/// round's derivative taken as 1):
/// ∂v̂/∂v = 1 if qmin &lt; v/s &lt; qmax else 0;
/// ∂v̂/∂s = round(v/s) − v/s inside, qmin below, qmax above; the scale gradient is multiplied by
/// g = 1 / √(N · qmax) (paper §2.2), N = values per scale.
/// </summary>
public sealed class LsqFunction : SingleTensorFunction<LsqFunction>
{
    /// <inheritdoc/>
    public override string Name => "DistillSharpLsq";

    /// <summary>The paper's gradient scale 1 / √(N · qmax).</summary>
    public static double GradScale(long valuesPerScale, int qmax) => 1.0 / Math.Sqrt((double)valuesPerScale * qmax);

    /// <summary>The paper's initial step size 2 · mean|v| / √qmax.</summary>
    public static float InitialScale(Tensor x, int qmax)
    {
        using var scope = NewDisposeScope();
        var meanAbs = x.detach().abs().mean().item<float>();
        return Math.Max(2 * meanAbs / MathF.Sqrt(qmax), QuantReference.MinScale);
    }

    /// <summary>Fake-quantizes <paramref name="x"/> with a learnable <paramref name="scale"/>
    /// (shape [] per tensor, or broadcastable like [C, 1] per channel).</summary>
    public static Tensor Apply(Tensor x, Tensor scale, int qmin, int qmax, double gradScale) =>
        apply(x, scale, qmin, qmax, gradScale);

    /// <summary>vars: x, scale, qmin (int), qmax (int), gradient scale (double).</summary>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var scale = (Tensor)vars[1];
        ctx.save_for_backward([x, scale]);
        ctx.save_data("qmin", vars[2]);
        ctx.save_data("qmax", vars[3]);
        ctx.save_data("g", vars[4]);
        using var scope = NewDisposeScope();
        return (x / scale).round_().clamp_((int)vars[2], (int)vars[3]).mul_(scale).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0], scale = saved[1];
        int qmin = (int)ctx.get_data("qmin"), qmax = (int)ctx.get_data("qmax");
        var g = (double)ctx.get_data("g");
        var z = x / scale;
        var below = z.le(qmin);
        var above = z.ge(qmax);
        var inside = below.logical_or(above).logical_not_();
        var gradX = gradOutput * inside;
        var dScale = where(inside, z.round() - z, where(below, full_like(z, qmin), full_like(z, qmax)));
        var gradScale = SumToShape(gradOutput * dScale * g, scale.shape);
        return [gradX, gradScale, null!, null!, null!];
    }

    /// <summary>Sums a broadcast result back to the shape of the tensor that was broadcast.</summary>
    private static Tensor SumToShape(Tensor t, long[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) == 1) return t.sum().reshape(shape);
        var lead = t.dim() - shape.Length;
        var dims = new List<long>();
        for (var d = 0; d < t.dim(); d++)
            if (d < lead || shape[d - lead] == 1 && t.shape[d] != 1) dims.Add(d);
        return t.sum(dims.ToArray(), keepdim: true).reshape(shape);
    }
}
