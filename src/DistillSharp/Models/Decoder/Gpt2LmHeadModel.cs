using DistillSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using DistillSharp.Runtime.Decoder;

namespace DistillSharp.Models.Decoder;

// GPT-2 (Radford et al. 2019) as in Hugging Face's GPT2LMHeadModel: learned positions, pre-LN
// LayerNorm, fused q/k/v projection c_attn, "gelu_new" feed-forward, LM head tied to wte.
// HF stores the projections as Conv1D with weight (in, out) — y = x·W + b — so the parameters keep
// that layout and the keys ("transformer.h.0.attn.c_attn.weight") load without transposing.

/// <summary>GPT-2's Conv1D: an affine map with weight stored (in, out).</summary>
public sealed class Conv1D : Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;

    /// <summary>Maps width <paramref name="inFeatures"/> to <paramref name="outFeatures"/>.</summary>
    public Conv1D(int inFeatures, int outFeatures) : base(nameof(Conv1D))
    {
        weight = Parameter(empty(inFeatures, outFeatures));
        bias = Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => x.matmul(weight).add_(bias);
}

/// <summary>Causal self-attention with the fused c_attn projection.</summary>
public sealed class Gpt2Attention : Module
{
    readonly Conv1D c_attn;
    readonly Conv1D c_proj;
    readonly int _heads, _headDim, _hidden;

    /// <summary>Sized from the config (n_embd, n_head).</summary>
    public Gpt2Attention(DecoderConfig c) : base(nameof(Gpt2Attention))
    {
        (_heads, _headDim, _hidden) = (c.NumHeads, c.HeadDim, c.HiddenSize);
        c_attn = new Conv1D(c.HiddenSize, 3 * c.HiddenSize);
        c_proj = new Conv1D(c.HiddenSize, c.HiddenSize);
        RegisterComponents();
    }

    /// <summary>x (B, T, H) → output (B, T, H) and probabilities (B, h, T, S).</summary>
    public (Tensor Output, Tensor Probs) forward(Tensor x, Tensor allowed, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var qkv = c_attn.forward(x).split(_hidden, 2); // 3 × (B, T, H)
        Tensor Heads(Tensor y) => y.view(b, t, _heads, _headDim).transpose(1, 2); // (B, h, T, d)
        var (q, k, v) = (Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]));
        if (cache is not null) (k, v) = cache.Append(layer, k, v);
        var (context, probs) = CausalLm.Attend(q, k, v, allowed);
        return (c_proj.forward(context).MoveToOuterDisposeScope(), probs.MoveToOuterDisposeScope());
    }
}

/// <summary>c_proj(gelu_new(c_fc(x))).</summary>
public sealed class Gpt2Mlp : Module<Tensor, Tensor>
{
    readonly Conv1D c_fc;
    readonly Conv1D c_proj;
    readonly Func<Tensor, Tensor> _act;

    /// <summary>Feed-forward of width n_inner.</summary>
    public Gpt2Mlp(DecoderConfig c) : base(nameof(Gpt2Mlp))
    {
        c_fc = new Conv1D(c.HiddenSize, c.IntermediateSize);
        c_proj = new Conv1D(c.IntermediateSize, c.HiddenSize);
        _act = TorchActivations.Get(c.HiddenAct);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return c_proj.forward(_act(c_fc.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>x + attn(ln_1(x)), then + mlp(ln_2(·)).</summary>
public sealed class Gpt2Block : Module
{
    readonly LayerNorm ln_1;
    readonly Gpt2Attention attn;
    readonly LayerNorm ln_2;
    readonly Gpt2Mlp mlp;

    /// <summary>One pre-LN block.</summary>
    public Gpt2Block(DecoderConfig c) : base(nameof(Gpt2Block))
    {
        ln_1 = LayerNorm(c.HiddenSize, c.NormEps);
        attn = new Gpt2Attention(c);
        ln_2 = LayerNorm(c.HiddenSize, c.NormEps);
        mlp = new Gpt2Mlp(c);
        RegisterComponents();
    }

    /// <summary>(B, T, H) → (B, T, H) and the attention probabilities.</summary>
    public (Tensor Hidden, Tensor Probs) forward(Tensor x, Tensor allowed, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var (a, probs) = attn.forward(ln_1.forward(x), allowed, cache, layer);
        var h = x + a;
        var output = h + mlp.forward(ln_2.forward(h));
        return (output.MoveToOuterDisposeScope(), probs.MoveToOuterDisposeScope());
    }
}

/// <summary>wte, wpe, h, ln_f.</summary>
public sealed class Gpt2Model : Module
{
    internal readonly Embedding wte;
    internal readonly Embedding wpe;
    internal readonly ModuleList<Gpt2Block> h;
    internal readonly LayerNorm ln_f;

    /// <summary>Stack of n_layer blocks.</summary>
    public Gpt2Model(DecoderConfig c) : base(nameof(Gpt2Model))
    {
        wte = Embedding(c.VocabSize, c.HiddenSize);
        wpe = Embedding(c.MaxPositions, c.HiddenSize);
        h = new ModuleList<Gpt2Block>(Enumerable.Range(0, c.NumLayers).Select(_ => new Gpt2Block(c)).ToArray());
        ln_f = LayerNorm(c.HiddenSize, c.NormEps);
        RegisterComponents();
    }
}

/// <summary>GPT-2 causal LM: <see cref="Gpt2Model"/> under "transformer" plus lm_head (or the tied wte).</summary>
public sealed class Gpt2LmHeadModel : CausalLm
{
    readonly Gpt2Model transformer;
    readonly Module<Tensor, Tensor>? lm_head;

    /// <summary>A randomly initialised model (normal(0, 0.02) matrices, as HF).</summary>
    public Gpt2LmHeadModel(DecoderConfig config) : base(nameof(Gpt2LmHeadModel), config)
    {
        if (!config.IsGpt2) throw new DistillSharpException($"Gpt2LmHeadModel builds model_type gpt2, not '{config.ModelType}'");
        transformer = new Gpt2Model(config);
        register_module("transformer", transformer);
        if (!config.TieWordEmbeddings)
        {
            lm_head = Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", lm_head);
        }
        DecoderInit.NormalLinearsAndEmbeddings(this, 0.02);
    }

    /// <inheritdoc/>
    public override DecoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false)
    {
        int past = cache?.Length ?? 0;
        var (positions, allowed) = PrepareInputs(inputIds, attentionMask, past);
        using var _p = positions;
        using var _a = allowed;
        var hidden = new List<Tensor>();
        var attentions = new List<Tensor>();
        Tensor x;
        using (var tok = transformer.wte.forward(inputIds))
        using (var pos = transformer.wpe.forward(positions))
            x = tok + pos; // (B, T, H)
        for (int i = 0; i < transformer.h.Count; i++)
        {
            if (outputHiddenStates) hidden.Add(x);
            var (next, probs) = transformer.h[i].forward(x, allowed, cache, i);
            if (outputAttentions) attentions.Add(probs); else probs.Dispose();
            if (!outputHiddenStates) x.Dispose();
            x = next;
        }
        var normed = transformer.ln_f.forward(x);
        if (outputHiddenStates) hidden.Add(normed);
        x.Dispose();
        var logits = lm_head is null ? normed.matmul(transformer.wte.weight!.t()) : lm_head.forward(normed); // (B, T, V)
        if (!outputHiddenStates) normed.Dispose();
        return new DecoderOutput(logits, hidden, attentions);
    }
}
