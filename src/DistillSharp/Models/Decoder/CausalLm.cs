using static TorchSharp.torch;
using DistillSharp.Runtime.Decoder;

namespace DistillSharp.Models.Decoder;

/// <summary>
/// A decoder-only language model. Inputs: token ids (B, T) int64; an optional attention mask
/// (B, S) int64 over cached + current positions (1 = token, 0 = padding; left padding supported);
/// an optional <see cref="KvCache"/> that the call extends. Position ids come from the mask's
/// cumulative sum, so left-padded rows start at position 0 like unpadded ones.
/// </summary>
public abstract class CausalLm : nn.Module
{
    /// <summary>The model's shape.</summary>
    public DecoderConfig Config { get; }

    /// <summary>Names the module (the TorchSharp module name).</summary>
    protected CausalLm(string name, DecoderConfig config) : base(name)
    {
        config.Validate();
        Config = config;
    }

    /// <summary>Runs the model; see the class summary for the inputs.</summary>
    public abstract DecoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null,
        bool outputHiddenStates = false, bool outputAttentions = false);

    /// <summary>An empty cache with one slot per layer.</summary>
    public KvCache NewCache() => new(Config.NumLayers);

    /// <summary>Number of parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>
    /// Checks the inputs and returns (positions (B, T) int64, allowed (B, 1, T, S) bool) for a call
    /// with <paramref name="past"/> cached tokens.
    /// </summary>
    protected (Tensor Positions, Tensor Allowed) PrepareInputs(Tensor inputIds, Tensor? attentionMask, int past)
    {
        if (inputIds.dim() != 2 || inputIds.dtype != ScalarType.Int64)
            throw new DistillSharpException($"inputIds must be (B, T) int64, got [{string.Join(", ", inputIds.shape)}] {inputIds.dtype}");
        long b = inputIds.shape[0], t = inputIds.shape[1], s = past + t;
        if (attentionMask is not null && (attentionMask.dim() != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != s))
            throw new DistillSharpException($"attentionMask must be (B, cached + new) = ({b}, {s}), got [{string.Join(", ", attentionMask.shape)}]");
        if (Config.IsGpt2 && s > Config.MaxPositions)
            throw new DistillSharpException($"sequence of {s} tokens exceeds n_positions {Config.MaxPositions} of this GPT-2 model");
        using var scope = NewDisposeScope();
        var device = inputIds.device;
        Tensor positions, keyValid;
        if (attentionMask is null)
        {
            positions = arange(past, s, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t);
            keyValid = ones(b, s, dtype: ScalarType.Bool, device: device);
        }
        else
        {
            var mask = attentionMask.to_type(ScalarType.Int64);
            var cumulative = mask.cumsum(1) - 1;                                   // (B, S)
            // Pads get position 1, like HF. (where() with a tensor, not masked_fill with an implicit Scalar:
            // a masked_fill(…, 1) here once failed at random inside libtorch's Scalar::toLong during a long
            // generation run — an implicitly converted Scalar is a native handle the GC may free early.)
            positions = where(mask.eq(0), ones_like(cumulative), cumulative).narrow(1, past, t);  // (B, T)
            keyValid = mask.ne(0);
        }
        var queryIndex = arange(past, s, dtype: ScalarType.Int64, device: device).view(t, 1); // (T, 1)
        var keyIndex = arange(0, s, dtype: ScalarType.Int64, device: device).view(1, s);      // (1, S)
        var causal = keyIndex.le(queryIndex);                                                // (T, S)
        if (Config.SlidingWindow is { } window) causal = causal.logical_and(queryIndex - keyIndex < window);
        var allowed = causal.unsqueeze(0).unsqueeze(0).logical_and(keyValid.view(b, 1, 1, s)); // (B, 1, T, S)
        return (positions.contiguous().MoveToOuterDisposeScope(), allowed.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// softmax(QKᵀ/√d, masked) V with grouped K/V heads repeated to the query heads.
    /// q (B, h, T, d), k/v (B, kvh, S, d), allowed (B, 1, T, S) → context (B, T, h·d) and probabilities (B, h, T, S).
    /// Fully masked rows (a padding query) get finite uniform weights instead of NaN.
    /// </summary>
    public static (Tensor Context, Tensor Probs) Attend(Tensor q, Tensor k, Tensor v, Tensor allowed)
    {
        using var scope = NewDisposeScope();
        long groups = q.shape[1] / k.shape[1];
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, 1); // head h uses kv head h / groups, as HF's repeat_kv
            v = v.repeat_interleave(groups, 1);
        }
        var scores = q.matmul(k.transpose(-1, -2)).div_(Math.Sqrt(q.shape[^1])); // (B, h, T, S)
        scores = scores.masked_fill(allowed.logical_not(), float.MinValue);
        var probs = scores.softmax(-1);
        var context = probs.matmul(v).transpose(1, 2).contiguous();                // (B, T, h, d)
        context = context.view(context.shape[0], context.shape[1], -1);
        return (context.MoveToOuterDisposeScope(), probs.MoveToOuterDisposeScope());
    }
}
