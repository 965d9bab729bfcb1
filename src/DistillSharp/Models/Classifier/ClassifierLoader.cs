using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Models.Classifier;

/// <summary>One text's top labels.</summary>
/// <param name="Text">The text.</param>
/// <param name="Labels">The most probable labels, best first, with their probabilities.</param>
/// <param name="Truncated">True when the text had more tokens than the model accepts (it was cut to the model's length).</param>
public sealed record Classification(string Text, IReadOnlyList<(string Label, double Probability)> Labels, bool Truncated);

/// <summary>
/// A classifier ready to run, whichever form it was saved in: a Hugging Face folder (TorchSharp fp32),
/// an INT8 classifier folder (the C# runtime), or a run folder (its <c>student/</c>).
/// </summary>
public sealed class LoadedClassifier : IDisposable
{
    readonly IDisposable _owner;
    readonly Func<IReadOnlyList<string>, float[][]> _probabilities;

    LoadedClassifier(IDisposable owner, ClassifierConfig config, BertTextTokenizer tokenizer, Func<IReadOnlyList<string>, float[][]> probabilities,
        string source, string runtime)
    {
        _owner = owner;
        Config = config;
        Tokenizer = tokenizer;
        _probabilities = probabilities;
        Source = source;
        Runtime = runtime;
    }

    /// <summary>Labels and encoder shape.</summary>
    public ClassifierConfig Config { get; }
    /// <summary>The tokenizer (its max length is what "truncated" refers to).</summary>
    public BertTextTokenizer Tokenizer { get; }
    /// <summary>Where the model came from.</summary>
    public string Source { get; }
    /// <summary>"torchsharp-fp32" or "distillsharp-int8".</summary>
    public string Runtime { get; }

    /// <summary>
    /// Loads <paramref name="spec"/>: an INT8 classifier folder, a Hugging Face classifier folder, or a
    /// run folder (its <c>student/</c>); <paramref name="maxLength"/> overrides the model's maximum length.
    /// </summary>
    public static LoadedClassifier Load(string spec, int? maxLength = null)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new DistillSharpException("no model given");
        if (!Directory.Exists(spec)) throw new DistillSharpException($"model '{spec}' not found: give a classifier folder (Hugging Face or INT8) or a run folder");
        if (Int8ClassifierFile.IsFolder(spec))
        {
            var int8 = Int8Classifier.Load(spec, new Int8EncoderOptions(Threads: Math.Min(4, Environment.ProcessorCount)), maxLength);
            return new LoadedClassifier(int8, int8.Config, int8.Tokenizer, t => int8.Probabilities(t), spec, "distillsharp-int8");
        }
        string dir = ClassifierFolder.IsClassifierFolder(spec) ? spec : Path.Combine(spec, "student");
        if (!ClassifierFolder.IsClassifierFolder(dir))
            throw new DistillSharpException(
                $"{spec}: not a sequence classifier: expected config.json naming {ClassifierConfig.Architecture} with model.safetensors, an INT8 classifier folder, or a run folder with student/");
        var classifier = ClassifierFolder.Load(dir, maxLength);
        return new LoadedClassifier(classifier, classifier.Config, classifier.Tokenizer, t => classifier.Probabilities(t), dir, "torchsharp-fp32");
    }

    /// <summary>Class probabilities of <paramref name="texts"/>, in order.</summary>
    public float[][] Probabilities(IReadOnlyList<string> texts) => _probabilities(texts);

    /// <summary>The <paramref name="top"/> most probable labels of each text (all labels when top ≥ C).</summary>
    public IReadOnlyList<Classification> Classify(IReadOnlyList<string> texts, int top)
    {
        if (top < 1) throw new DistillSharpException($"--top must be >= 1, got {top}");
        var probabilities = Probabilities(texts);
        return texts.Select((text, i) => new Classification(text,
            probabilities[i].Select((p, c) => (Config.Labels[c], (double)p)).OrderByDescending(x => x.Item2).ThenBy(x => x.Item1, StringComparer.Ordinal)
                .Take(top).ToList(),
            Tokenizer.TokenCount(text) > Tokenizer.MaxLength)).ToList();
    }

    /// <inheritdoc/>
    public void Dispose() => _owner.Dispose();
}
