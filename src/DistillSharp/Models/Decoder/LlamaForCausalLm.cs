using DistillSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using DistillSharp.Runtime.Decoder;

namespace DistillSharp.Models.Decoder;

// Llama (Touvron et al. 2023) as in Hugging Face's LlamaForCausalLM, which also covers Qwen2 (q/k/v
// bias), Mistral (sliding window as a mask), SmolLM and TinyLlama: pre-norm RMSNorm, rotary
// positions, grouped-query attention, SwiGLU feed-forward. Field names equal the checkpoint keys
// ("model.layers.0.self_attn.q_proj.weight"), so safetensors load name for name.
// Shapes: B batch, T new tokens, S cached + new, H hidden, h heads, kvh kv heads, d head width.

/// <summary>Root-mean-square norm: x / √(mean(x²) + ε) · weight (no centring, no bias).</summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly double _eps;

    /// <summary>Norm over the last dimension of width <paramref name="size"/>.</summary>
    public RmsNorm(int size, double eps) : base(nameof(RmsNorm))
    {
        weight = Parameter(ones(size));
        _eps = eps;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var variance = x.pow(2).mean([-1L], keepdim: true);
        return (x * (variance + _eps).rsqrt() * weight).MoveToOuterDisposeScope();
    }
}

/// <summary>Grouped-query self-attention with rotary positions and an optional KV cache.</summary>
public sealed class LlamaAttention : Module
{
    readonly Module<Tensor, Tensor> q_proj; // Module, not Linear: quantization may swap these
    readonly Module<Tensor, Tensor> k_proj;
    readonly Module<Tensor, Tensor> v_proj;
    readonly Module<Tensor, Tensor> o_proj;
    readonly int _heads, _kvHeads, _headDim;

    /// <summary>Projections sized from the config; qwen2 has q/k/v bias only, llama's attention_bias adds o_proj bias too.</summary>
    public LlamaAttention(DecoderConfig c) : base(nameof(LlamaAttention))
    {
        (_heads, _kvHeads, _headDim) = (c.NumHeads, c.NumKvHeads, c.HeadDim);
        q_proj = Linear(c.HiddenSize, _heads * _headDim, hasBias: c.AttentionBias);
        k_proj = Linear(c.HiddenSize, _kvHeads * _headDim, hasBias: c.AttentionBias);
        v_proj = Linear(c.HiddenSize, _kvHeads * _headDim, hasBias: c.AttentionBias);
        o_proj = Linear(_heads * _headDim, c.HiddenSize, hasBias: c.AttentionBias && c.ModelType != "qwen2");
        RegisterComponents();
    }

    /// <summary>x (B, T, H) → output (B, T, H) and probabilities (B, h, T, S).</summary>
    public (Tensor Output, Tensor Probs) forward(Tensor x, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);   // (B, h, T, d)
        var k = k_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // (B, kvh, T, d)
        var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(layer, k, v); // (B, kvh, S, d), owned by the cache
        var (context, probs) = CausalLm.Attend(q, k, v, allowed);
        return (o_proj.forward(context).MoveToOuterDisposeScope(), probs.MoveToOuterDisposeScope());
    }
}

/// <summary>SwiGLU feed-forward: down(act(gate(x)) · up(x)).</summary>
public sealed class LlamaMlp : Module<Tensor, Tensor>
{
    readonly Module<Tensor, Tensor> gate_proj;
    readonly Module<Tensor, Tensor> up_proj;
    readonly Module<Tensor, Tensor> down_proj;
    readonly Func<Tensor, Tensor> _act;

    /// <summary>Feed-forward of width <see cref="DecoderConfig.IntermediateSize"/>.</summary>
    public LlamaMlp(DecoderConfig c) : base(nameof(LlamaMlp))
    {
        gate_proj = Linear(c.HiddenSize, c.IntermediateSize, hasBias: false);
        up_proj = Linear(c.HiddenSize, c.IntermediateSize, hasBias: false);
        down_proj = Linear(c.IntermediateSize, c.HiddenSize, hasBias: false);
        _act = TorchActivations.Get(c.HiddenAct);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(_act(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>x + attn(norm(x)), then + mlp(norm(·)).</summary>
public sealed class LlamaDecoderLayer : Module
{
    readonly LlamaAttention self_attn;
    readonly LlamaMlp mlp;
    readonly RmsNorm input_layernorm;
    readonly RmsNorm post_attention_layernorm;

    /// <summary>One pre-norm block.</summary>
    public LlamaDecoderLayer(DecoderConfig c) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(c);
        mlp = new LlamaMlp(c);
        input_layernorm = new RmsNorm(c.HiddenSize, c.NormEps);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.NormEps);
        RegisterComponents();
    }

    /// <summary>(B, T, H) → (B, T, H) and the attention probabilities.</summary>
    public (Tensor Hidden, Tensor Probs) forward(Tensor x, Tensor cos, Tensor sin, Tensor allowed, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var (attn, probs) = self_attn.forward(input_layernorm.forward(x), cos, sin, allowed, cache, layer);
        var h = x + attn;
        var output = h + mlp.forward(post_attention_layernorm.forward(h));
        return (output.MoveToOuterDisposeScope(), probs.MoveToOuterDisposeScope());
    }
}

/// <summary>The decoder stack without the LM head: embed_tokens, layers, norm.</summary>
public sealed class LlamaModel : Module
{
    internal readonly Embedding embed_tokens;
    internal readonly ModuleList<LlamaDecoderLayer> layers;
    internal readonly RmsNorm norm;

    /// <summary>Stack of <see cref="DecoderConfig.NumLayers"/> blocks.</summary>
    public LlamaModel(DecoderConfig c) : base(nameof(LlamaModel))
    {
        embed_tokens = Embedding(c.VocabSize, c.HiddenSize);
        layers = new ModuleList<LlamaDecoderLayer>(Enumerable.Range(0, c.NumLayers).Select(_ => new LlamaDecoderLayer(c)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.NormEps);
        RegisterComponents();
    }
}

/// <summary>Llama-family causal LM: <see cref="LlamaModel"/> plus lm_head (or the tied embedding).</summary>
public sealed class LlamaForCausalLm : CausalLm
{
    readonly LlamaModel model;
    readonly Module<Tensor, Tensor>? lm_head;
    readonly RotaryEmbedding _rotary;

    /// <summary>A randomly initialised model of shape <paramref name="config"/> (normal(0, 0.02) weights, as HF).</summary>
    public LlamaForCausalLm(DecoderConfig config) : base(nameof(LlamaForCausalLm), config)
    {
        if (config.IsGpt2) throw new DistillSharpException("LlamaForCausalLm cannot build model_type gpt2; use Gpt2LmHeadModel");
        model = new LlamaModel(config);
        register_module("model", model);
        if (!config.TieWordEmbeddings)
        {
            lm_head = Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", lm_head);
        }
        _rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta, config.RopeScaling, config.MaxPositions);
        DecoderInit.NormalLinearsAndEmbeddings(this, 0.02);
    }

    /// <summary>The rotary frequencies this model uses.</summary>
    public RotaryEmbedding Rotary => _rotary;

    /// <inheritdoc/>
    public override DecoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false)
    {
        int past = cache?.Length ?? 0;
        var (positions, allowed) = PrepareInputs(inputIds, attentionMask, past);
        using var _p = positions;
        using var _a = allowed;
        var (cos, sin) = _rotary.CosSin(positions);
        using var _c = cos;
        using var _s = sin;
        var hidden = new List<Tensor>();
        var attentions = new List<Tensor>();
        Tensor x = model.embed_tokens.forward(inputIds); // (B, T, H)
        for (int i = 0; i < model.layers.Count; i++)
        {
            if (outputHiddenStates) hidden.Add(x);
            var (next, probs) = model.layers[i].forward(x, cos, sin, allowed, cache, i);
            if (outputAttentions) attentions.Add(probs); else probs.Dispose();
            if (!outputHiddenStates) x.Dispose();
            x = next;
        }
        var normed = model.norm.forward(x);
        if (outputHiddenStates) hidden.Add(normed);
        x.Dispose();
        var logits = lm_head is null ? normed.matmul(model.embed_tokens.weight!.t()) : lm_head.forward(normed); // (B, T, V)
        if (!outputHiddenStates) normed.Dispose();
        return new DecoderOutput(logits, hidden, attentions);
    }
}
