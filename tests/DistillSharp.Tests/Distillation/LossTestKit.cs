using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

/// <summary>Builders, a finite-difference gradient check and scalar references for the loss tests.</summary>
static class LossTestKit
{
    /// <summary>A model output holding only what a test sets; the rest are empty lists.</summary>
    public static ModelOutput Output(Tensor mask, Tensor? logits = null, Tensor? pooled = null,
        IReadOnlyList<Tensor>? hidden = null, IReadOnlyList<Tensor>? attentions = null,
        IReadOnlyList<Tensor>? queries = null, IReadOnlyList<Tensor>? keys = null, IReadOnlyList<Tensor>? values = null) =>
        new()
        {
            AttentionMask = mask, Logits = logits, Pooled = pooled,
            HiddenStates = hidden ?? [], Attentions = attentions ?? [],
            Queries = queries, Keys = keys, Values = values,
        };

    /// <summary>A (B, T) int64 mask from rows of 0/1.</summary>
    public static Tensor Mask(params long[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Int64);

    /// <summary>A float64 tensor from values and a shape.</summary>
    public static Tensor D(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);

    /// <summary>Random float64 tensor with a fixed generator seed.</summary>
    public static Tensor Randn(int seed, params long[] shape)
    {
        manual_seed(seed);
        return randn(shape, ScalarType.Float64);
    }

    /// <summary>Softmax attention with padded keys at exactly 0 (what a masked model produces).</summary>
    public static Tensor SoftmaxAttention(Tensor scores, Tensor mask) =>
        scores.masked_fill(mask.eq(0).unsqueeze(1).unsqueeze(1), double.NegativeInfinity).softmax(-1);

    public static double Item(Tensor t) => t.to_type(ScalarType.Float64).item<double>();

    /// <summary>
    /// Central-difference check of d loss / d x against autograd (float64): every element, step 1e-6,
    /// tolerance 1e-6 relative (+1e-9 absolute for near-zero entries).
    /// </summary>
    public static void GradCheck(Func<Tensor, Tensor> loss, Tensor x0, double step = 1e-6)
    {
        using var scope = NewDisposeScope();
        var x = x0.detach().clone().requires_grad_(true);
        var analytic = torch.autograd.grad([loss(x)], [x])[0].contiguous().view(-1);
        var flat = x0.detach().clone().contiguous().view(-1);
        for (var i = 0; i < flat.shape[0]; i++)
        {
            using var inner = NewDisposeScope();
            var plus = flat.clone(); plus[i] = plus[i] + step;
            var minus = flat.clone(); minus[i] = minus[i] - step;
            var numeric = (Item(loss(plus.view(x0.shape))) - Item(loss(minus.view(x0.shape)))) / (2 * step);
            var a = Item(analytic[i]);
            Assert.True(Math.Abs(a - numeric) <= 1e-6 * Math.Abs(numeric) + 1e-9,
                $"element {i}: autograd {a:R} vs finite difference {numeric:R}");
        }
    }

    /// <summary>The same check for a module parameter, perturbed in place.</summary>
    public static void GradCheckParameter(Func<Tensor> loss, Parameter p, double step = 1e-6)
    {
        using var scope = NewDisposeScope();
        p.grad?.zero_();
        var analytic = torch.autograd.grad([loss()], [p])[0].contiguous().view(-1);
        for (var i = 0; i < p.numel(); i++)
        {
            using var inner = NewDisposeScope();
            double At(double delta)
            {
                using (no_grad()) p.view(-1)[i].add_(delta);
                var v = Item(loss());
                using (no_grad()) p.view(-1)[i].sub_(delta);
                return v;
            }
            var numeric = (At(step) - At(-step)) / (2 * step);
            var a = Item(analytic[i]);
            Assert.True(Math.Abs(a - numeric) <= 1e-6 * Math.Abs(numeric) + 1e-9,
                $"parameter element {i}: autograd {a:R} vs finite difference {numeric:R}");
        }
    }

    /// <summary>Scalar reference: softmax(z / T).</summary>
    public static double[] Softmax(double[] z, double t = 1)
    {
        var m = z.Max(v => v / t);
        var e = z.Select(v => Math.Exp(v / t - m)).ToArray();
        var s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    /// <summary>Scalar reference: KL(p ‖ q), terms with p = 0 dropped.</summary>
    public static double Kl(double[] p, double[] q) =>
        p.Zip(q).Where(x => x.First > 0).Sum(x => x.First * Math.Log(x.First / x.Second));

    /// <summary>A small shape for terms that need one.</summary>
    public static LossContext Context(int layersS = 2, int layersT = 4, int hiddenS = 4, int hiddenT = 6,
        int headsS = 2, int headsT = 2, int maxLen = 5) =>
        new(new ModelShape(layersS, hiddenS, headsS, maxLen), new ModelShape(layersT, hiddenT, headsT, maxLen));
}
