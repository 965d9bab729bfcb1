using DistillSharp.Quantization.Observers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>Settings of post-training quantization.</summary>
/// <param name="WeightBits">8 or 4 (symmetric per output channel).</param>
/// <param name="ActivationBits">8, or 0 for weight-only.</param>
/// <param name="ActivationSymmetric">int8 [-127, 127] or uint8 [0, 255] with zero point.</param>
/// <param name="Observer">Activation observer name (see <see cref="ObserverRegistry"/>).</param>
/// <param name="ObserverOptions">Observer knobs (percentile, bins, …).</param>
/// <param name="Mode">Static (calibrated) or dynamic (per token at run time) activations.</param>
/// <param name="CalibrationBatches">How many batches to observe at most.</param>
/// <param name="Fp32Layers">Layer names kept in float32 (see <see cref="PrecisionFallback"/>).</param>
public sealed record PtqOptions(
    int WeightBits = 8,
    int ActivationBits = 8,
    bool ActivationSymmetric = true,
    string Observer = "percentile",
    ObserverOptions? ObserverOptions = null,
    ActivationMode Mode = ActivationMode.Static,
    int CalibrationBatches = 32,
    IReadOnlySet<string>? Fp32Layers = null)
{
    /// <summary>The options of a named recipe; observer settings matter for static recipes only.</summary>
    public static PtqOptions For(QuantRecipe recipe, string observer = "percentile", ObserverOptions? observerOptions = null, int calibrationBatches = 32) =>
        new(recipe.WeightBits, recipe.ActivationBits, recipe.ActivationSymmetric, observer, observerOptions, recipe.Mode, calibrationBatches);

    /// <summary>The recipe these options make (throws when no recipe has them).</summary>
    public QuantRecipe Recipe => QuantRecipes.Of(WeightBits, ActivationBits, Mode, ActivationSymmetric, "post-training quantization");
}

/// <summary>
/// Post-training quantization of every Linear in a module tree: weights symmetric per output
/// channel (scale = max|row| / qmax), activations either calibrated per tensor by an observer on
/// each Linear's input (static) or left to per-token run-time scales (dynamic).
/// </summary>
public sealed class PostTrainingQuantizer
{
    /// <summary>Creates a quantizer; the options are checked here.</summary>
    public PostTrainingQuantizer(PtqOptions options)
    {
        Options = options;
        _ = new QuantSpec(options.WeightBits).Validate();
        if (options.ActivationBits != 0) _ = new QuantSpec(options.ActivationBits, options.ActivationSymmetric).Validate();
        if (!ObserverRegistry.Contains(options.Observer))
            throw new DistillSharpException($"unknown observer '{options.Observer}'; known observers: {string.Join(", ", ObserverRegistry.Names)}");
        _ = options.Recipe;
        if (options.CalibrationBatches < 1)
            throw new DistillSharpException($"calibration batches must be ≥ 1, got {options.CalibrationBatches}");
    }

    /// <summary>The options.</summary>
    public PtqOptions Options { get; }

    /// <summary>Calibrates on <paramref name="batches"/> (static mode) and quantizes every Linear.
    /// <paramref name="run"/> runs the model on a batch (default: <c>Module&lt;Tensor, Tensor&gt;.call</c>).
    /// The model is left as it was.</summary>
    public QuantizedModel Quantize(nn.Module model, IEnumerable<Tensor> batches, Func<nn.Module, Tensor, Tensor>? run = null)
    {
        var observers = new Dictionary<string, IObserver>();
        var needCalibration = Options.ActivationBits != 0 && Options.Mode == ActivationMode.Static;
        if (needCalibration)
            Calibrate(model, batches, run ?? RunDefault, observers);
        var spec = new QuantSpec(Options.ActivationBits == 0 ? 8 : Options.ActivationBits, Options.ActivationSymmetric);
        var layers = new Dictionary<string, QuantizedLinearWeights>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is not Linear linear || Options.Fp32Layers?.Contains(name) == true) continue;
            QuantParams? input = null;
            if (needCalibration)
            {
                if (!observers.TryGetValue(name, out var o) || o.Count == 0)
                    throw new DistillSharpException($"layer '{name}' saw no input during calibration; check that the run callback reaches it");
                input = o.ComputeQParams(spec);
            }
            layers[name] = QuantizeLinear(name, linear.weight, linear.bias, Options.WeightBits, input);
        }
        return new QuantizedModel(layers, Options.WeightBits, Options.ActivationBits, Options.ActivationSymmetric, Options.Mode,
            needCalibration ? Options.Observer : "none");
    }

    /// <summary>Exports a QAT model: weights quantized as above, activation parameters from each
    /// FakeQuantLinear's EMA observer or LSQ scale.</summary>
    public static QuantizedModel ExportQat(nn.Module qatModel)
    {
        var layers = new Dictionary<string, QuantizedLinearWeights>();
        FakeQuantOptions? options = null;
        foreach (var (name, module) in qatModel.named_modules())
        {
            if (module is not FakeQuantLinear f) continue;
            options ??= f.Options;
            layers[name] = QuantizeLinear(name, f.Weight, f.Bias, f.Options.WeightBits, f.InputQParams);
        }
        if (options is null) throw new DistillSharpException("the model holds no FakeQuantLinear layers; run FakeQuantLinear.Prepare first");
        return new QuantizedModel(layers, options.WeightBits, options.ActivationBits, options.ActivationSymmetric,
            ActivationMode.Static, options.Method == ActivationQuantMethod.Lsq ? "lsq" : "moving_average_minmax");
    }

    /// <summary>Quantizes one weight [out, in] symmetrically per output row.</summary>
    public static QuantizedLinearWeights QuantizeLinear(string name, Tensor weight, Tensor? bias, int bits, QuantParams? input)
    {
        using var scope = NewDisposeScope();
        var w = weight.detach();
        var p = QuantReference.ChooseQParams(TensorQuant.MinMax(w, 0).Mins, TensorQuant.MinMax(w, 0).Maxs, new QuantSpec(bits, true, 0));
        var q = QuantReference.Quantize(TensorQuant.ToFloatArray(w), w.shape, p);
        return new QuantizedLinearWeights(name, (int)w.shape[0], (int)w.shape[1], q.Select(v => (sbyte)v).ToArray(), p.Scales,
            bias is null ? null : TensorQuant.ToFloatArray(bias), input?.Scale, input?.ZeroPoint).Validate(bits);
    }

    private void Calibrate(nn.Module model, IEnumerable<Tensor> batches, Func<nn.Module, Tensor, Tensor> run,
        Dictionary<string, IObserver> observers)
    {
        var options = (Options.ObserverOptions ?? new ObserverOptions()) with { Axis = -1 };
        var swap = LinearSwap.ReplaceLinears(model, (name, linear) =>
        {
            var o = observers[name] = ObserverRegistry.Create(Options.Observer, options);
            return new ObservingLinear(linear, o);
        }, name => Options.Fp32Layers?.Contains(name) != true);
        var wasTraining = swap.Root.training;
        swap.Root.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in batches.Take(Options.CalibrationBatches))
            {
                using var scope = NewDisposeScope();
                run(swap.Root, batch);
            }
        }
        finally
        {
            swap.Root.train(wasTraining);
            swap.Restore();
        }
    }

    private static Tensor RunDefault(nn.Module m, Tensor x) =>
        m is nn.Module<Tensor, Tensor> f ? f.call(x)
            : throw new DistillSharpException($"{m.GetType().Name} is not a Module<Tensor, Tensor>; pass a run callback");

    /// <summary>A Linear that shows its input to an observer.</summary>
    private sealed class ObservingLinear(Linear linear, IObserver observer) : nn.Module<Tensor, Tensor>(nameof(ObservingLinear))
    {
        public override Tensor forward(Tensor x)
        {
            observer.Observe(x);
            return linear.call(x);
        }
    }
}
