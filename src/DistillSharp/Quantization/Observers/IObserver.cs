using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Watches tensors during calibration (or training, for QAT) and turns what it saw into
/// quantization parameters. Calls accumulate: observe every calibration batch, then compute once.
/// </summary>
public interface IObserver
{
    /// <summary>Registry name ("minmax", "percentile", …).</summary>
    string Name { get; }

    /// <summary>Number of values observed so far.</summary>
    long Count { get; }

    /// <summary>Accumulates statistics of one batch (any shape, any float dtype; no gradient is kept).</summary>
    void Observe(Tensor x);

    /// <summary>Parameters for <paramref name="spec"/> from everything observed; throws when nothing was observed.</summary>
    QuantParams ComputeQParams(QuantSpec spec);
}

/// <summary>Knobs shared by the observer factories; each observer reads the ones it uses.</summary>
/// <param name="Axis">Channel axis for per-channel min-max observers, -1 for per-tensor.</param>
/// <param name="Percentile">Percentile (0–100] kept by the percentile observer: of |x| when
/// symmetric, the low (100 − p) and high (p) percentiles of x when asymmetric.</param>
/// <param name="Momentum">EMA weight of the old value in the moving-average observer:
/// new = momentum · old + (1 − momentum) · batch (0.99 = torch.ao's averaging constant 0.01).</param>
/// <param name="Bins">Histogram bins of the percentile, MSE and entropy observers.</param>
public sealed record ObserverOptions(int Axis = -1, double Percentile = 99.99, double Momentum = 0.99, int Bins = 2048);

/// <summary>Shared guard clauses for observers.</summary>
internal static class ObserverChecks
{
    public static void RequireObserved(IObserver o)
    {
        if (o.Count == 0)
            throw new InvalidOperationException($"observer '{o.Name}' has seen no values; run calibration batches before computing parameters");
    }

    public static void RequirePerTensor(IObserver o, QuantSpec spec)
    {
        if (!spec.IsPerTensor)
            throw new DistillSharpException($"observer '{o.Name}' computes per-tensor parameters only (spec axis {spec.Axis}); use 'minmax' for per-channel weights");
    }

    public static Tensor Flat(Tensor x) => x.detach().to(ScalarType.Float32).reshape(-1);
}
