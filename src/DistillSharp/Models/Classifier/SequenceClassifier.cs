using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Models.Classifier;

/// <summary>
/// A <see cref="BertForSequenceClassification"/> with its tokenizer: what transformers'
/// text-classification pipeline runs. Teachers, students and baselines of a classification run are
/// all of this type.
/// </summary>
public sealed class SequenceClassifier : IEncoderFamilyModel, IDisposable
{
    /// <summary>Wraps a model and its tokenizer.</summary>
    public SequenceClassifier(BertForSequenceClassification model, BertTextTokenizer tokenizer, string source)
    {
        Model = model;
        Tokenizer = tokenizer;
        Source = source;
    }

    /// <summary>The network.</summary>
    public BertForSequenceClassification Model { get; }
    /// <summary>Its tokenizer (holds the max sequence length).</summary>
    public BertTextTokenizer Tokenizer { get; }
    /// <summary>Where it came from (for messages and reports).</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public nn.Module Module => Model;

    /// <inheritdoc/>
    public BertEncoderModel Encoder => Model.Bert;
    /// <summary>The labels and encoder shape.</summary>
    public ClassifierConfig Config => Model.Config;
    /// <summary>Label names by class id.</summary>
    public IReadOnlyList<string> Labels => Model.Config.Labels;

    /// <summary>Runs a tokenized batch; <see cref="ModelOutput.Logits"/> is (B, C).</summary>
    public ModelOutput Forward(TokenBatch batch, bool withQkv = false)
    {
        var (ids, mask, types) = batch.ToTensors();
        var output = Model.Forward(ids, mask, types, withQkv);
        ids.Dispose();
        types.Dispose();
        return output;
    }

    /// <summary>Logits (C values per text) of <paramref name="texts"/>, in order, in length-sorted batches without gradients.</summary>
    public float[][] Logits(IReadOnlyList<string> texts, int batchSize = 32) =>
        BatchedInference.Rows(Model, Tokenizer, b => Forward(b), o => o.Logits!, texts, batchSize);

    /// <summary>Class probabilities softmax(logits) of <paramref name="texts"/>, in order.</summary>
    public float[][] Probabilities(IReadOnlyList<string> texts, int batchSize = 32) =>
        Logits(texts, batchSize).Select(l => Int8Classifier.Softmax(l)).ToArray();

    /// <summary>A forward pass without gradients, for speed measurements (outputs are dropped).</summary>
    public Action<TokenBatch> Runner() => batch =>
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Forward(batch);
    };

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
