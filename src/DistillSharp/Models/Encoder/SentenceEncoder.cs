using DistillSharp.Models;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// A BERT-family encoder with its tokenizer and sentence pooling: what sentence-transformers calls
/// a SentenceTransformer. Teachers and students are both of this type.
/// </summary>
public sealed class SentenceEncoder : IEncoderFamilyModel, IDisposable
{
    public SentenceEncoder(BertEncoderModel model, BertTextTokenizer tokenizer, Pooling pooling, bool normalize, string source)
    {
        tokenizer.CheckFits(model.Config.VocabSize, model.Config.MaxPositionEmbeddings, source);
        Model = model;
        Tokenizer = tokenizer;
        Pooling = pooling;
        Normalize = normalize;
        Source = source;
    }

    /// <summary>The network.</summary>
    public BertEncoderModel Model { get; }
    /// <summary>Its tokenizer (holds the max sequence length).</summary>
    public BertTextTokenizer Tokenizer { get; }
    /// <summary>How sentence embeddings are pooled.</summary>
    public Pooling Pooling { get; }
    /// <summary>Whether sentence embeddings are L2-normalised.</summary>
    public bool Normalize { get; }
    /// <summary>Where it came from (for messages and reports).</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public nn.Module Module => Model;

    /// <inheritdoc/>
    public BertEncoderModel Encoder => Model;

    /// <summary>Runs a tokenized batch; the result's <see cref="ModelOutput.Pooled"/> is the sentence embedding.</summary>
    public ModelOutput Forward(TokenBatch batch, bool withQkv = false)
    {
        var (ids, mask, types) = batch.ToTensors();
        var output = Model.Forward(ids, mask, types, withQkv);
        ids.Dispose();
        types.Dispose();
        return new ModelOutput
        {
            HiddenStates = output.HiddenStates,
            Attentions = output.Attentions,
            Queries = output.Queries, Keys = output.Keys, Values = output.Values,
            AttentionMask = mask,
            Pooled = SentencePooling.Pool(output.LastHiddenState, mask, Pooling, Normalize),
        };
    }

    /// <summary>Sentence embeddings of <paramref name="texts"/>, in order, computed in batches without gradients.</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 32) =>
        BatchedInference.Rows(Model, Tokenizer, b => Forward(b), o => o.Pooled!, texts, batchSize);

    public void Dispose() => Model.Dispose();
}
