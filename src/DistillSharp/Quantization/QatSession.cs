using DistillSharp.Models.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// Quantization-aware training of one stage (Jacob et al. 2018; LSQ: Esser et al. 2020): swaps
/// every Linear of the student for a <see cref="FakeQuantLinear"/> (weights per output channel,
/// inputs per tensor, straight-through gradients; the Linears' parameters are shared, so the
/// optimizer and state_dict keys are unchanged apart from the activation state), optionally
/// calibrates the activation ranges with an observer first, freezes EMA ranges late in the stage,
/// and exports the trained model through <see cref="PostTrainingQuantizer.ExportQat"/>.
/// </summary>
public sealed class QatSession : IDisposable
{
    /// <summary>Folder of a run that holds the QAT export.</summary>
    public const string Subfolder = "qat";

    readonly SwapResult _swap;
    readonly QatConfig _config;
    bool _restored;

    QatSession(SwapResult swap, QatConfig config) => (_swap, _config) = (swap, config);

    /// <summary>Where a run's QAT export lives (<see cref="QuantizedModelFile"/> layout).</summary>
    public static string ExportPath(string runDir) => Path.Combine(runDir, Subfolder, "quantized.safetensors");

    /// <summary>The fake-quant options a stage trains with: bits and scheme from <paramref name="quantize"/>.</summary>
    public static FakeQuantOptions Options(QatConfig qat, QuantizeConfig quantize) => new(quantize.WeightBits, quantize.ActivationBits,
        quantize.Scheme == "symmetric", qat.LearnRanges == "lsq" ? ActivationQuantMethod.Lsq : ActivationQuantMethod.Ema, qat.Momentum);

    /// <summary>
    /// Swaps the student's Linears. With <paramref name="calibrationTexts"/> (a fresh stage whose
    /// config names an observer) the ranges start from that observer's static calibration; on a
    /// resume pass null: the checkpoint restores them.
    /// </summary>
    public static QatSession Start(SentenceEncoder student, QatConfig qat, QuantizeConfig quantize, IReadOnlyList<string>? calibrationTexts, int batchSize)
    {
        QuantizedModel? calibrated = null;
        if (qat.Observer is { } observer && calibrationTexts is not null)
        {
            var ptq = quantize with { Mode = "static", Observer = observer, CalibBatches = qat.CalibBatches };
            calibrated = EncoderQuantizer.Quantize(student, ptq, calibrationTexts, batchSize);
        }
        var options = Options(qat, quantize);
        // Only the encoder's Linears: a sentence embedding never runs the pooler, so it would have no range.
        var swap = FakeQuantLinear.Prepare(student.Model, options, name => name.StartsWith("encoder.", StringComparison.Ordinal));
        foreach (var (name, _, replacement) in swap.Swaps)
            if (calibrated?.Layers[name] is { InputScale: float s } layer)
                ((FakeQuantLinear)replacement).InitialiseInput(QuantParams.PerTensor(s, layer.InputZeroPoint ?? 0, options.ActivationSpec));
        return new QatSession(swap, qat);
    }

    /// <summary>Layers trained with fake quantization (every Linear under <c>encoder.</c>).</summary>
    public int Layers => _swap.Swaps.Count;

    /// <summary>Called before each optimizer step of the stage: freezes the EMA ranges once the stage
    /// reaches <see cref="QatConfig.FreezeObserversAfter"/> (again after a resume).</summary>
    public void BeforeStep(int stageStep)
    {
        if (_config.FreezeObserversAfter is int after && stageStep >= after)
            FakeQuantLinear.FreezeAll(_swap.Root);
    }

    /// <summary>Exports the trained model (int8 weights, learned activation ranges) and writes it to <paramref name="path"/>.</summary>
    public QuantizedModel Export(string path)
    {
        var quantized = PostTrainingQuantizer.ExportQat(_swap.Root);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + ".tmp";
        QuantizedModelFile.Save(quantized, temp);
        File.Move(temp, path, overwrite: true);
        return quantized;
    }

    /// <summary>Puts the float Linears back (their parameters hold what QAT trained).</summary>
    public void Dispose()
    {
        if (_restored) return;
        _swap.Restore();
        _restored = true;
    }
}
