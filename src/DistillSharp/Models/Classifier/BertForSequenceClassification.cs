using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Classifier;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DistillSharp.Models.Classifier;

// Hugging Face's BertForSequenceClassification (single-label): logits = W_c · dropout(pooler(h[CLS])) + b_c
// with pooler(h) = tanh(W_p h + b_p). Field names give transformers' checkpoint keys: "bert.…" for
// the encoder and its pooler, "classifier.weight" (C, H) and "classifier.bias" (C).
// Shapes: B batch, T tokens, H hidden, C classes.

/// <summary>A BERT encoder with transformers' sequence-classification head.</summary>
public sealed class BertForSequenceClassification : Module
{
    readonly BertEncoderModel bert;
    readonly Dropout dropout;
    readonly Module<Tensor, Tensor> classifier; // Module, not Linear: quantization swaps it for a fake-quant wrapper

    /// <summary>The encoder shape and the labels.</summary>
    public ClassifierConfig Config { get; }

    /// <summary>Builds the model with transformers' initialisation (normal(0, initializer_range) weights, zero biases).</summary>
    public BertForSequenceClassification(ClassifierConfig config) : this(config, null) { }

    /// <summary>
    /// Builds the head on <paramref name="encoder"/> (the model takes it over), or on a new encoder
    /// when it is null; the head gets transformers' initialisation.
    /// </summary>
    public BertForSequenceClassification(ClassifierConfig config, BertEncoderModel? encoder) : base(nameof(BertForSequenceClassification))
    {
        Config = config.Validate(nameof(BertForSequenceClassification));
        if (!config.Encoder.HasPooler)
            throw new DistillSharpException("a sequence classifier needs the encoder's pooler (HasPooler)");
        if (encoder is not null && encoder.Config != config.Encoder)
            throw new DistillSharpException("the encoder's config differs from the classifier config's encoder");
        bert = encoder ?? new BertEncoderModel(config.Encoder);
        dropout = Dropout(config.EffectiveDropout);
        classifier = Linear(config.Encoder.HiddenSize, config.NumLabels);
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var (name, p) in classifier.named_parameters())
            if (name == "bias") p.zero_();
            else init.normal_(p, 0, config.Encoder.InitializerRange);
    }

    /// <summary>The encoder (with its pooler).</summary>
    public BertEncoderModel Bert => bert;

    /// <summary>
    /// Runs encoder and head: the result holds every hidden state and attention map of the encoder,
    /// <see cref="ModelOutput.Pooled"/> = the pooler output (B, H) and <see cref="ModelOutput.Logits"/> (B, C).
    /// </summary>
    public ModelOutput Forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null, bool withQkv = false)
    {
        var output = bert.Forward(inputIds, attentionMask, tokenTypeIds, withQkv);
        var pooled = bert.PoolerOutput(output.LastHiddenState)!;    // (B, H)
        using var dropped = dropout.forward(pooled);
        return new ModelOutput
        {
            HiddenStates = output.HiddenStates,
            Attentions = output.Attentions,
            Queries = output.Queries, Keys = output.Keys, Values = output.Values,
            AttentionMask = attentionMask,
            Pooled = pooled,
            Logits = classifier.forward(dropped),                    // (B, C)
        };
    }
}
