using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// Runs one <see cref="QuantizedLinearWeights"/> in float32 exactly as the integer runtime would
/// round: y = dq(q(x)) · dq(Wq)ᵀ + b, with static per-tensor or dynamic per-token activation
/// parameters, or dynamic per-tensor ones (one range over the whole input, as ONNX
/// DynamicQuantizeLinear). Used to measure quantization error (SQNR, sensitivity) without the INT8 kernels.
/// </summary>
public sealed class QuantizedLinearSimulation : nn.Module<Tensor, Tensor>
{
    private readonly Tensor _weight;   // (out, in) dequantized
    private readonly Tensor? _bias;    // (out)
    private readonly QuantizedLinearWeights _layer;
    private readonly QuantizedModel _model;

    /// <summary>Simulates <paramref name="layer"/> under the settings of <paramref name="model"/>.</summary>
    public QuantizedLinearSimulation(QuantizedLinearWeights layer, QuantizedModel model) : base(nameof(QuantizedLinearSimulation))
    {
        _layer = layer;
        _model = model;
        var deq = QuantReference.Dequantize(layer.Weight.Select(v => (int)v).ToArray(),
            [layer.OutFeatures, layer.InFeatures], layer.WeightParams(model.WeightBits));
        _weight = tensor(deq, [layer.OutFeatures, layer.InFeatures]).DetachFromDisposeScope();
        _bias = layer.Bias is null ? null : tensor(layer.Bias).DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var input = QuantizeInput(x);
        return nn.functional.linear(input, _weight, _bias).MoveToOuterDisposeScope();
    }

    private Tensor QuantizeInput(Tensor x)
    {
        if (_model.ActivationBits == 0) return x;
        var spec = _model.ActivationSpec;
        if (_model.Mode == ActivationMode.Static)
        {
            if (_layer.InputScale is not float s)
                throw new DistillSharpException($"layer '{_layer.Name}' has no static input_scale; calibrate or use mode dynamic");
            return TensorQuant.FakeQuantize(x, QuantParams.PerTensor(s, _layer.InputZeroPoint ?? 0, spec));
        }
        // Per token: one row per token; per tensor: the whole input as one row.
        var rows = _model.Mode == ActivationMode.DynamicPerTensor ? x.reshape(1, -1) : x.reshape(-1, x.shape[^1]);
        var (mins, maxs) = TensorQuant.MinMax(rows, 0);
        var p = QuantReference.ChooseQParams(mins, maxs, spec.WithAxis(0));
        return TensorQuant.FakeQuantize(rows, p).reshape(x.shape);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) { _weight.Dispose(); _bias?.Dispose(); }
        base.Dispose(disposing);
    }

    /// <summary>Swaps the layers of <paramref name="model"/> named in <paramref name="quantized"/> (optionally
    /// only those in <paramref name="only"/>) for simulations; undo with <see cref="SwapResult.Restore"/>.</summary>
    public static SwapResult Apply(nn.Module model, QuantizedModel quantized, IReadOnlySet<string>? only = null) =>
        LinearSwap.ReplaceLinears(model, (name, _) => new QuantizedLinearSimulation(quantized.Layers[name], quantized),
            name => quantized.Layers.ContainsKey(name) && (only is null || only.Contains(name)));
}
