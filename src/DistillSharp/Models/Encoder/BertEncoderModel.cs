using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// A BERT-family encoder whose forward pass exposes what distillation needs: every hidden state,
/// every layer's attention probabilities and, on request, Q/K/V.
/// </summary>
public sealed class BertEncoderModel : Module
{
    readonly BertEmbeddings embeddings;
    readonly BertEncoder encoder;
    readonly BertPooler? pooler;

    /// <summary>The model's shape.</summary>
    public BertConfig Config { get; }

    public BertEncoderModel(BertConfig config) : base(nameof(BertEncoderModel))
    {
        Config = config.Validate("BertEncoderModel");
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        if (config.HasPooler) pooler = new BertPooler(config);
        RegisterComponents();
        InitWeights(config.InitializerRange);
    }

    /// <summary>
    /// Recompute each layer's internals in backward instead of keeping them (see
    /// <see cref="CheckpointedBertLayer"/>): less memory for one more forward pass per step.
    /// Outputs and gradients are unchanged. Applies only while gradients are enabled.
    /// </summary>
    public bool CheckpointActivations { get; set; }

    /// <summary>The transformer layers, for freezing, initialisation and activation checkpointing.</summary>
    public IReadOnlyList<BertLayer> Layers => encoder.layer.ToList();

    /// <summary>
    /// Runs the encoder. <paramref name="inputIds"/>, <paramref name="attentionMask"/> and
    /// <paramref name="tokenTypeIds"/> are (B, T) int64; the mask is 1 for tokens, 0 for padding.
    /// </summary>
    public ModelOutput Forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null, bool withQkv = false)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be (B, T), got [{string.Join(", ", inputIds.shape)}]");
        if (!inputIds.shape.SequenceEqual(attentionMask.shape))
            throw new ArgumentException($"attention_mask [{string.Join(", ", attentionMask.shape)}] must match input_ids [{string.Join(", ", inputIds.shape)}]");
        if (inputIds.shape[1] > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence length {inputIds.shape[1]} exceeds max_position_embeddings {Config.MaxPositionEmbeddings}");

        using var zeros = tokenTypeIds is null ? zeros_like(inputIds) : null;
        var hidden = embeddings.forward(inputIds, tokenTypeIds ?? zeros!);
        using var additive = AdditiveMask(attentionMask);

        var hiddens = new List<Tensor> { hidden };
        var probs = new List<Tensor>();
        List<Tensor>? qs = withQkv ? new() : null, ks = withQkv ? new() : null, vs = withQkv ? new() : null;
        bool checkpoint = CheckpointActivations && is_grad_enabled();
        foreach (var layer in encoder.layer)
        {
            var (next, p, q, k, v) = checkpoint ? CheckpointedBertLayer.Run(layer, hidden, additive, withQkv) : layer.forward(hidden, additive);
            hiddens.Add(next);
            probs.Add(p);
            if (withQkv) { qs!.Add(q!); ks!.Add(k!); vs!.Add(v!); }
            else { q?.Dispose(); k?.Dispose(); v?.Dispose(); }
            hidden = next;
        }
        return new ModelOutput
        {
            HiddenStates = hiddens,
            Attentions = probs,
            Queries = qs, Keys = ks, Values = vs,
            AttentionMask = attentionMask,
        };
    }

    /// <summary>BertModel's pooler output tanh(W·h[CLS] + b) of (B, T, H) hidden states; null when the model has none.</summary>
    public Tensor? PoolerOutput(Tensor lastHiddenState) => pooler?.forward(lastHiddenState);

    /// <summary>(B, T) 1/0 mask → (B, 1, 1, T) additive mask: 0 for tokens, the float minimum for padding.</summary>
    public static Tensor AdditiveMask(Tensor attentionMask)
    {
        using var m = attentionMask.to_type(ScalarType.Float32).unsqueeze(1).unsqueeze(1);
        using var inverted = 1.0f - m;
        return inverted * float.MinValue;
    }

    void InitWeights(double std)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("LayerNorm.weight")) p.fill_(1);
            else if (name.EndsWith(".bias")) p.zero_();
            else init.normal_(p, 0, std);
        }
    }
}
