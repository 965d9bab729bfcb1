using DistillSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

// A BERT encoder (Devlin et al. 2019) in the post-LayerNorm arrangement of Hugging Face's
// BertModel. Field names equal the checkpoint keys ("encoder.layer.3.attention.self.query.weight"),
// so safetensors and ONNX initializers load without a rename table. Attention is computed by hand,
// not with SDPA, because distillation needs the probabilities.
// Shapes: B batch, T tokens, H hidden, h heads, d = H / h.

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout.</summary>
public sealed class BertEmbeddings : Module
{
    readonly Embedding word_embeddings;
    readonly Embedding position_embeddings;
    readonly Embedding token_type_embeddings;
    readonly LayerNorm LayerNorm;
    readonly Dropout dropout;

    public BertEmbeddings(BertConfig c) : base(nameof(BertEmbeddings))
    {
        word_embeddings = Embedding(c.VocabSize, c.HiddenSize, padding_idx: c.PadTokenId);
        position_embeddings = Embedding(c.MaxPositionEmbeddings, c.HiddenSize);
        token_type_embeddings = Embedding(c.TypeVocabSize, c.HiddenSize);
        LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        dropout = Dropout(c.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>(B, T) ids → (B, T, H).</summary>
    public Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        long t = inputIds.shape[1];
        using var positions = arange(t, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0); // (1, T)
        using var sum = word_embeddings.forward(inputIds) + token_type_embeddings.forward(tokenTypeIds)
                        + position_embeddings.forward(positions);
        using var normed = LayerNorm.forward(sum);
        return dropout.forward(normed);
    }
}

/// <summary>Multi-head self-attention that also returns its probabilities (and optionally Q, K, V).</summary>
public sealed class BertSelfAttention : Module
{
    readonly Module<Tensor, Tensor> query; // Module, not Linear: quantization swaps these for fake-quant wrappers
    readonly Module<Tensor, Tensor> key;
    readonly Module<Tensor, Tensor> value;
    readonly Dropout dropout;
    readonly int _heads;
    readonly int _headDim;

    public BertSelfAttention(BertConfig c) : base(nameof(BertSelfAttention))
    {
        query = Linear(c.HiddenSize, c.HiddenSize);
        key = Linear(c.HiddenSize, c.HiddenSize);
        value = Linear(c.HiddenSize, c.HiddenSize);
        dropout = Dropout(c.AttentionProbsDropoutProb);
        _heads = c.NumAttentionHeads;
        _headDim = c.HeadDim;
        RegisterComponents();
    }

    Tensor SplitHeads(Tensor x) // (B, T, H) → (B, h, T, d)
    {
        using var viewed = x.view(x.shape[0], x.shape[1], _heads, _headDim);
        return viewed.transpose(1, 2);
    }

    /// <summary>Returns context (B, T, H), probabilities (B, h, T, T) and Q, K, V (B, h, T, d).</summary>
    public (Tensor Context, Tensor Probs, Tensor Q, Tensor K, Tensor V) forward(Tensor x, Tensor additiveMask)
    {
        var q = SplitHeads(query.forward(x));
        var k = SplitHeads(key.forward(x));
        var v = SplitHeads(value.forward(x));
        using var raw = q.matmul(k.transpose(-1, -2));                      // (B, h, T, T)
        using var scaled = raw.div(MathF.Sqrt(_headDim)).add_(additiveMask); // mask: (B, 1, 1, T)
        var probs = scaled.softmax(-1);
        using var dropped = dropout.forward(probs);
        using var context = dropped.matmul(v);                               // (B, h, T, d)
        using var merged = context.transpose(1, 2);                          // (B, T, h, d)
        var flat = merged.reshape(x.shape[0], x.shape[1], _heads * _headDim);
        return (flat, probs, q, k, v);
    }
}

/// <summary>Output projection + dropout + residual + LayerNorm (used after attention and after the FFN).</summary>
public sealed class BertResidualOutput : Module
{
    readonly Module<Tensor, Tensor> dense;
    readonly LayerNorm LayerNorm;
    readonly Dropout dropout;

    public BertResidualOutput(int inFeatures, BertConfig c) : base(nameof(BertResidualOutput))
    {
        dense = Linear(inFeatures, c.HiddenSize);
        LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        dropout = Dropout(c.HiddenDropoutProb);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor residual)
    {
        using var projected = dense.forward(x);
        using var dropped = dropout.forward(projected);
        using var sum = dropped + residual;
        return LayerNorm.forward(sum);
    }
}

/// <summary>The attention block: self-attention then its residual output.</summary>
public sealed class BertAttention : Module
{
    readonly BertSelfAttention self;
    readonly BertResidualOutput output;

    public BertAttention(BertConfig c) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(c);
        output = new BertResidualOutput(c.HiddenSize, c);
        RegisterComponents();
    }

    public (Tensor Hidden, Tensor Probs, Tensor Q, Tensor K, Tensor V) forward(Tensor x, Tensor additiveMask)
    {
        var (context, probs, q, k, v) = self.forward(x, additiveMask);
        using (context) return (output.forward(context, x), probs, q, k, v);
    }
}

/// <summary>The FFN's first projection and activation.</summary>
public sealed class BertIntermediate : Module
{
    readonly Module<Tensor, Tensor> dense;
    readonly Func<Tensor, Tensor> _act;

    public BertIntermediate(BertConfig c) : base(nameof(BertIntermediate))
    {
        dense = Linear(c.HiddenSize, c.IntermediateSize);
        _act = TorchActivations.Get(c.HiddenAct);
        RegisterComponents();
    }

    public Tensor forward(Tensor x)
    {
        using var h = dense.forward(x);
        return _act(h);
    }
}

/// <summary>One transformer layer: attention block, then FFN block.</summary>
public sealed class BertLayer : Module
{
    readonly BertAttention attention;
    readonly BertIntermediate intermediate;
    readonly BertResidualOutput output;

    public BertLayer(BertConfig c) : base(nameof(BertLayer))
    {
        attention = new BertAttention(c);
        intermediate = new BertIntermediate(c);
        output = new BertResidualOutput(c.IntermediateSize, c);
        RegisterComponents();
    }

    public (Tensor Hidden, Tensor Probs, Tensor Q, Tensor K, Tensor V) forward(Tensor x, Tensor additiveMask)
    {
        var (attended, probs, q, k, v) = attention.forward(x, additiveMask);
        using var inter = intermediate.forward(attended);
        using (attended) return (output.forward(inter, attended), probs, q, k, v);
    }
}

/// <summary>The stack of layers, named "layer" as in the checkpoints.</summary>
public sealed class BertEncoder : Module
{
    internal readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig c) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new BertLayer(c)).ToArray());
        RegisterComponents();
    }
}

/// <summary>BertModel's pooler: tanh(Linear(hidden of [CLS])).</summary>
public sealed class BertPooler : Module
{
    readonly Module<Tensor, Tensor> dense;

    public BertPooler(BertConfig c) : base(nameof(BertPooler))
    {
        dense = Linear(c.HiddenSize, c.HiddenSize);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden)
    {
        using var cls = hidden.select(1, 0);
        using var projected = dense.forward(cls);
        return projected.tanh();
    }
}
