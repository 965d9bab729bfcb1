using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation;

/// <summary>
/// TorchSharp's <see cref="AdamW"/> step in two passes over memory and libtorch's square root, where the
/// optimizer's own step runs eight tensor operations per parameter (decay, two moment updates, a square
/// root, a division and an addition into temporaries, the update) and streams the 17 M parameters of a
/// student through memory about twelve times. It computes exactly what those operations compute — the
/// same float32 operations in the same order, fused where libtorch's vector kernels fuse them, the
/// scalars rounded to float32 as libtorch rounds them, and the square root taken by libtorch itself
/// (its vector math library's is not the correctly rounded one) — so weights and moments are
/// bit-identical to <c>optimizer.step()</c> (<c>FusedAdamWTests</c> checks it against TorchSharp), and
/// it updates the optimizer's own state, so checkpoints are unchanged.
/// </summary>
/// <remarks>
/// Per element, with lr, β₁, β₂, ε, λ of the parameter's group and t its step count after the increment:
/// <c>p ← p·(1 − lr·λ)</c>; <c>m ← fma(g, 1 − β₁, m·β₁)</c>; <c>v ← fma((1 − β₂)·g, g, v·β₂)</c>; then
/// <c>p ← p + (−lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)</c>. It applies only to float32 CPU tensors
/// that are contiguous, with <c>amsgrad</c> and <c>maximize</c> off; otherwise <see cref="TryStep"/>
/// returns false before changing anything and the caller steps the optimizer as usual.
/// </remarks>
public static class FusedAdamW
{
    const int Chunk = 1 << 16;   // elements per parallel work item (a multiple of every vector width)

    readonly record struct Work(Tensor Param, Tensor Grad, AdamW.State State, float Decay, float Beta1, float OneMinusBeta1,
        float Beta2, float OneMinusBeta2, float Eps, double Lr, double Beta1d, double Beta2d);

    /// <summary>
    /// Steps <paramref name="optimizer"/> (an <see cref="AdamW"/>) in two passes per parameter; false, with nothing
    /// changed, when the optimizer or one of its tensors is not of the kind this path computes.
    /// </summary>
    public static bool TryStep(optim.Optimizer optimizer, int threads)
    {
        if (optimizer is not AdamW adamw) return false;
        var states = adamw.state_dict().State;
        var items = new List<Work>();
        int index = 0;
        foreach (var controller in adamw.ParamGroups)
        {
            if (controller is not ParamGroup group || group.Options is not AdamW.Options o) return false;
            if (o.amsgrad == true || o.maximize == true) return false;
            foreach (var p in group.Parameters)
            {
                if (index >= states.Count || states[index++] is not AdamW.State s) return false;
                var grad = p.grad;
                if (grad is null) continue;
                foreach (var t in new[] { p, grad, s.exp_avg, s.exp_avg_sq })
                    if (t.dtype != ScalarType.Float32 || t.device_type != TorchSharp.DeviceType.CPU || !t.is_contiguous() || t.numel() != p.numel()) return false;
                double lr = o.LearningRate!.Value, wd = o.weight_decay!.Value, b1 = o.beta1!.Value, b2 = o.beta2!.Value;
                items.Add(new Work(p, grad, s, (float)(1 - lr * wd), (float)b1, (float)(1 - b1), (float)b2, (float)(1 - b2), (float)o.eps!.Value, lr, b1, b2));
            }
        }
        foreach (var w in items) Step(w, threads);
        return true;
    }

    static unsafe void Step(Work w, int threads)
    {
        w.State.step += 1;
        double bc1 = 1 - Math.Pow(w.Beta1d, w.State.step), bc2 = 1 - Math.Pow(w.Beta2d, w.State.step);
        float sqrtBc2 = (float)Math.Sqrt(bc2), stepSize = (float)-(w.Lr / bc1);
        float* p = Pointer(w.Param), g = Pointer(w.Grad), m = Pointer(w.State.exp_avg), v = Pointer(w.State.exp_avg_sq);
        long n = w.Param.numel();
        Run(n, threads, (from, to) => Moments(p, g, m, v, from, to, w.Decay, w.Beta1, w.OneMinusBeta1, w.Beta2, w.OneMinusBeta2));
        // libtorch's square root is not the correctly rounded one (on x64 it comes from its vector math
        // library), so it stays libtorch's: one more pass, and the result stays bit-identical.
        using var root = w.State.exp_avg_sq.sqrt();
        float* r = Pointer(root);
        Run(n, threads, (from, to) => Update(p, m, r, from, to, sqrtBc2, w.Eps, stepSize));
    }

    static unsafe void Run(long n, int threads, Action<long, long> body)
    {
        long chunks = (n + Chunk - 1) / Chunk;
        if (threads <= 1 || chunks < 2) body(0, n);
        else Parallel.For(0L, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c => body(c * Chunk, Math.Min(n, (c + 1) * Chunk)));
    }

    // p ← p·decay; m ← fma(g, 1 − β₁, m·β₁); v ← fma((1 − β₂)·g, g, v·β₂) (libtorch's vectorised add_ and addcmul_ both fuse).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Moments(float* p, float* g, float* m, float* v, long from, long to, float decay, float beta1, float oneMinusBeta1,
        float beta2, float oneMinusBeta2)
    {
        long i = from;
        if (Vector512.IsHardwareAccelerated)
        {
            var vd = Vector512.Create(decay); var vb1 = Vector512.Create(beta1); var va1 = Vector512.Create(oneMinusBeta1);
            var vb2 = Vector512.Create(beta2); var va2 = Vector512.Create(oneMinusBeta2);
            for (; i + 16 <= to; i += 16)
            {
                var gi = Vector512.Load(g + i);
                (Vector512.Load(p + i) * vd).Store(p + i);
                Vector512.FusedMultiplyAdd(gi, va1, Vector512.Load(m + i) * vb1).Store(m + i);
                Vector512.FusedMultiplyAdd(va2 * gi, gi, Vector512.Load(v + i) * vb2).Store(v + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vd = Vector256.Create(decay); var vb1 = Vector256.Create(beta1); var va1 = Vector256.Create(oneMinusBeta1);
            var vb2 = Vector256.Create(beta2); var va2 = Vector256.Create(oneMinusBeta2);
            for (; i + 8 <= to; i += 8)
            {
                var gi = Vector256.Load(g + i);
                (Vector256.Load(p + i) * vd).Store(p + i);
                Vector256.FusedMultiplyAdd(gi, va1, Vector256.Load(m + i) * vb1).Store(m + i);
                Vector256.FusedMultiplyAdd(va2 * gi, gi, Vector256.Load(v + i) * vb2).Store(v + i);
            }
        }
        for (; i < to; i++)
        {
            float gi = g[i];
            p[i] *= decay;
            m[i] = MathF.FusedMultiplyAdd(gi, oneMinusBeta1, m[i] * beta1);
            v[i] = MathF.FusedMultiplyAdd(oneMinusBeta2 * gi, gi, v[i] * beta2);
        }
    }

    // p ← p + (step·m) / (√v / √(1 − β₂ᵗ) + ε) (addcdiv_ of the decayed weight).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Update(float* p, float* m, float* root, long from, long to, float sqrtBc2, float eps, float stepSize)
    {
        long i = from;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(sqrtBc2); var ve = Vector512.Create(eps); var vstep = Vector512.Create(stepSize);
            for (; i + 16 <= to; i += 16)
                (Vector512.Load(p + i) + vstep * Vector512.Load(m + i) / (Vector512.Load(root + i) / vs + ve)).Store(p + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(sqrtBc2); var ve = Vector256.Create(eps); var vstep = Vector256.Create(stepSize);
            for (; i + 8 <= to; i += 8)
                (Vector256.Load(p + i) + vstep * Vector256.Load(m + i) / (Vector256.Load(root + i) / vs + ve)).Store(p + i);
        }
        for (; i < to; i++) p[i] += stepSize * m[i] / (root[i] / sqrtBc2 + eps);
    }

    static unsafe float* Pointer(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
}
