using TorchSharp.Modules;
using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>How the input activations of a <see cref="FakeQuantLinear"/> get their scale.</summary>
public enum ActivationQuantMethod
{
    /// <summary>Moving-average min-max observer updated on every training batch (until frozen).</summary>
    Ema,

    /// <summary>Learned step size (LSQ, Esser et al. 2020): the scale is a trained parameter.</summary>
    Lsq,
}

/// <summary>Options of quantization-aware training for one Linear layer.</summary>
/// <param name="WeightBits">8 or 4; weights are symmetric per output channel, scale = max|w_row| / qmax.</param>
/// <param name="ActivationBits">8, or 0 for weight-only quantization (e.g. 4-bit weight-only).</param>
/// <param name="ActivationSymmetric">Symmetric int8 [-127, 127] or asymmetric uint8 [0, 255] inputs
/// (LSQ learns a scale only, so with LSQ the asymmetric choice means unsigned [0, 255] with zero point 0).</param>
/// <param name="Method">EMA observer or LSQ.</param>
/// <param name="Momentum">EMA weight of the old range.</param>
public sealed record FakeQuantOptions(
    int WeightBits = 8,
    int ActivationBits = 8,
    bool ActivationSymmetric = true,
    ActivationQuantMethod Method = ActivationQuantMethod.Ema,
    double Momentum = 0.99)
{
    /// <summary>The weight spec (per output channel, axis 0 of [out, in]).</summary>
    public QuantSpec WeightSpec => new QuantSpec(WeightBits, true, 0).Validate();

    /// <summary>The per-tensor activation spec.</summary>
    public QuantSpec ActivationSpec => new QuantSpec(ActivationBits, ActivationSymmetric).Validate();
}

/// <summary>
/// Quantization-aware stand-in for an <see cref="Linear"/>: y = x̂ · ŵᵀ + b with ŵ fake-quantized per
/// output channel (straight-through gradient) and x̂ fake-quantized per tensor by an EMA observer or
/// LSQ. It shares the Linear's weight and bias parameters, so state_dict keys (<c>weight</c>,
/// <c>bias</c>) and the optimizer's parameters stay the same; LSQ adds <c>input_scale</c>.
/// </summary>
public sealed class FakeQuantLinear : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter? input_scale;   // LSQ: [1]; 0 until the first batch initialises it
    private readonly Tensor? input_range;      // EMA: [2] = (min, max); NaN until the first batch
#pragma warning restore IDE1006

    /// <summary>Wraps <paramref name="linear"/> (its parameters are shared, not copied).</summary>
    public FakeQuantLinear(Linear linear, FakeQuantOptions? options = null) : base(nameof(FakeQuantLinear))
    {
        Options = options ?? new FakeQuantOptions();
        _ = Options.WeightSpec;
        if (Options.ActivationBits != 0) _ = Options.ActivationSpec;
        weight = linear.weight;
        bias = linear.bias;
        if (!(Options.Momentum >= 0 && Options.Momentum < 1))
            throw new DistillSharpException($"moving-average momentum must be in [0, 1), got {Options.Momentum}");
        // The activation state lives in a parameter/buffer so that it is part of state_dict():
        // checkpoints hold it and a resumed QAT run continues with exactly the same ranges.
        if (Options.ActivationBits != 0 && Options.Method == ActivationQuantMethod.Lsq)
            input_scale = new Parameter(zeros(1));
        else if (Options.ActivationBits != 0)
            input_range = full(2, float.NaN).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>The shared float weight [out, in].</summary>
    public Parameter Weight => weight;

    /// <summary>The shared float bias [out], or null.</summary>
    public Parameter? Bias => bias;

    /// <summary>The options this layer was built with.</summary>
    public FakeQuantOptions Options { get; }

    /// <summary>True once <see cref="FreezeObservers"/> was called: the EMA range no longer moves.</summary>
    public bool ObserversFrozen { get; private set; }

    /// <summary>Stops updating the activation range (LSQ scales keep training; freeze them with requires_grad).</summary>
    public void FreezeObservers() => ObserversFrozen = true;

    /// <summary>Current activation parameters, or null for weight-only layers or before any batch.</summary>
    public QuantParams? InputQParams
    {
        get
        {
            if (Options.ActivationBits == 0) return null;
            if (input_scale is not null)
                return LsqInitialised ? QuantParams.PerTensor(input_scale.item<float>(), 0, Options.ActivationSpec) : null;
            return RangeParams();
        }
    }

    /// <summary>The EMA activation range (min, max), or null before any batch or with LSQ / weight-only.</summary>
    public (float Min, float Max)? InputRange
    {
        get
        {
            if (input_range is null) return null;
            var r = input_range.data<float>();
            return float.IsNaN(r[0]) ? null : (r[0], r[1]);
        }
    }

    /// <summary>Starts the activation range from calibrated parameters (an observer's, before QAT):
    /// EMA takes the range the parameters represent, LSQ takes the scale.</summary>
    public void InitialiseInput(QuantParams p)
    {
        if (Options.ActivationBits == 0) return;
        using var noGrad = no_grad();
        if (input_scale is not null)
        {
            input_scale.fill_(p.Scale);
            return;
        }
        float min = (p.QMin - p.ZeroPoint) * p.Scale, max = (p.QMax - p.ZeroPoint) * p.Scale;
        input_range!.copy_(tensor(new[] { min, max }));
    }

    private bool LsqInitialised => input_scale!.item<float>() > 0;

    private QuantParams? RangeParams() => InputRange is var (min, max)
        ? QuantReference.ChooseQParams(min, max, Options.ActivationSpec) : null;

    // m ← momentum · m + (1 − momentum) · batch, in float32 as MovingAverageMinMaxObserver; the first batch is taken as is.
    private void ObserveRange(Tensor x)
    {
        var (mins, maxs) = TensorQuant.MinMax(x, -1);
        float min = mins[0], max = maxs[0];
        if (InputRange is var (oldMin, oldMax))
        {
            var m = (float)Options.Momentum;
            (min, max) = (m * oldMin + (1 - m) * min, m * oldMax + (1 - m) * max);
        }
        using var noGrad = no_grad();
        input_range!.copy_(tensor(new[] { min, max }));
    }

    /// <summary>Per-output-channel weight parameters from the current weights.</summary>
    public QuantParams WeightQParams()
    {
        var (mins, maxs) = TensorQuant.MinMax(weight, 0);
        return QuantReference.ChooseQParams(mins, maxs, Options.WeightSpec);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = QuantizeInput(x);                              // (…, in)
        var w = FakeQuantFunction.Apply(weight, WeightQParams()); // (out, in)
        return nn.functional.linear(input, w, bias).MoveToOuterDisposeScope();
    }

    private Tensor QuantizeInput(Tensor x)
    {
        if (Options.ActivationBits == 0) return x;
        var spec = Options.ActivationSpec;
        if (input_scale is not null)
        {
            if (!LsqInitialised)
                using (no_grad()) input_scale.fill_(LsqFunction.InitialScale(x, spec.QMax));
            var qmin = spec.Symmetric ? spec.QMin : 0;
            return LsqFunction.Apply(x, input_scale.reshape(), qmin, spec.QMax, LsqFunction.GradScale(x.shape[^1], spec.QMax));
        }
        if ((training && !ObserversFrozen) || InputRange is null) ObserveRange(x);
        return FakeQuantFunction.Apply(x, RangeParams()!);
    }

    /// <summary>Freezes the observers of every FakeQuantLinear under <paramref name="root"/>; returns how many.</summary>
    public static int FreezeAll(nn.Module root)
    {
        var n = 0;
        foreach (var (_, m) in root.named_modules().Prepend(("", root)))
            if (m is FakeQuantLinear f) { f.FreezeObservers(); n++; }
        return n;
    }

    /// <summary>Replaces every Linear under <paramref name="root"/> by a FakeQuantLinear (see <see cref="LinearSwap"/>).</summary>
    public static SwapResult Prepare(nn.Module root, FakeQuantOptions? options = null, Func<string, bool>? include = null) =>
        LinearSwap.ReplaceLinears(root, (_, linear) => new FakeQuantLinear(linear, options), include);
}
