using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// Activation checkpointing of one <see cref="BertLayer"/> (Chen et al. 2016, "Training Deep Nets
/// with Sublinear Memory Cost"; PyTorch's <c>torch.utils.checkpoint</c> in its reentrant form).
/// Forward runs the layer without a graph and keeps only its input; backward runs it again under
/// <c>enable_grad</c> and differentiates that recomputation with <c>autograd.grad</c>.
/// <para>
/// All five outputs (hidden, attention probabilities, Q, K, V) are outputs of the function, so a
/// loss may use any of them; whichever receive a gradient are differentiated together. The layer's
/// trainable parameters are inputs of the function too: the gradients backward returns for them
/// are accumulated into <c>p.grad</c> by the autograd engine, exactly as for an ordinary layer.
/// </para>
/// <para>
/// Dropout draws the same masks in the recomputation: the CPU generator's state is saved before
/// forward, restored for the recomputation and put back afterwards (PyTorch's
/// <c>preserve_rng_state</c>), so the random stream after backward is the one without checkpointing.
/// </para>
/// </summary>
public sealed class CheckpointedBertLayer : MultiTensorFunction<CheckpointedBertLayer>
{
    const int FirstParameter = 4; // vars: layer, x, additive mask, withQkv, trainable parameters…

    /// <inheritdoc/>
    public override string Name => "DistillSharpCheckpointedBertLayer";

    /// <summary>
    /// Runs <paramref name="layer"/> on <paramref name="x"/> (B, T, H) with checkpointing; returns what
    /// <see cref="BertLayer.forward"/> returns, with Q, K, V null unless <paramref name="withQkv"/>
    /// (so their storage is not kept). Under <c>no_grad</c> this is a plain forward.
    /// </summary>
    public static (Tensor Hidden, Tensor Probs, Tensor? Q, Tensor? K, Tensor? V) Run(BertLayer layer, Tensor x, Tensor additiveMask, bool withQkv = true)
    {
        var vars = new List<object> { layer, x, additiveMask, withQkv };
        vars.AddRange(layer.parameters().Where(p => p.requires_grad));
        var outputs = apply(vars.ToArray());
        return withQkv ? (outputs[0], outputs[1], outputs[2], outputs[3], outputs[4]) : (outputs[0], outputs[1], null, null, null);
    }

    /// <inheritdoc/>
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var layer = (BertLayer)vars[0];
        var x = (Tensor)vars[1];
        var mask = (Tensor)vars[2];
        ctx.save_for_backward([x, mask]);
        ctx.save_data("layer", layer);
        ctx.save_data("parameters", vars.Skip(FirstParameter).Cast<Tensor>().ToList());
        ctx.save_data("training", layer.training);
        ctx.save_data("rng", layer.training ? RngState() : Array.Empty<byte>());
        // Gradients arrive only for the outputs a loss used; no zero tensors for the others.
        ctx.set_materialize_grads(false);

        using var scope = NewDisposeScope(); // grad mode is off here: nothing of the layer's internals survives
        var (hidden, probs, q, k, v) = layer.forward(x, mask);
        List<Tensor> outputs = (bool)vars[3] ? [hidden, probs, q, k, v] : [hidden, probs];
        return outputs.Select(t => t.MoveToOuterDisposeScope()).ToList();
    }

    /// <inheritdoc/>
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        Tensor x = saved[0], mask = saved[1];
        var layer = (BertLayer)ctx.get_data("layer");
        bool training = (bool)ctx.get_data("training");
        var rng = (byte[])ctx.get_data("rng");
        var parameters = (List<Tensor>)ctx.get_data("parameters");
        var result = new List<Tensor>(new Tensor[FirstParameter + parameters.Count]);

        using var scope = NewDisposeScope();
        var used = Enumerable.Range(0, gradOutputs.Count).Where(i => gradOutputs[i] is { IsInvalid: false }).ToList();
        if (used.Count == 0) return result;

        var input = x.detach().requires_grad_(x.requires_grad);
        Tensor[] outputs;
        bool wasTraining = layer.training;
        byte[] current = RngState();
        try
        {
            if (wasTraining != training) layer.train(training);
            if (rng.Length > 0) SetRngState(rng);
            using var grad = enable_grad();
            var (hidden, probs, q, k, v) = layer.forward(input, mask);
            outputs = gradOutputs.Count == 5 ? [hidden, probs, q, k, v] : [hidden, probs];
        }
        finally
        {
            if (rng.Length > 0) SetRngState(current);
            if (wasTraining != training) layer.train(wasTraining);
        }

        var wrt = new List<Tensor>();
        if (x.requires_grad) wrt.Add(input);
        wrt.AddRange(parameters);
        var differentiable = used.Where(i => outputs[i].requires_grad).ToList();
        if (wrt.Count == 0 || differentiable.Count == 0) return result;
        var grads = grad(differentiable.Select(i => outputs[i]).ToList(), wrt,
            differentiable.Select(i => gradOutputs[i]).ToList(), allow_unused: true);

        int g = 0;
        if (x.requires_grad) result[1] = Keep(grads[g++]);
        for (int p = 0; p < parameters.Count; p++) result[FirstParameter + p] = Keep(grads[g++]);
        return result;
    }

    // An unused input's gradient comes back undefined: report it as none.
    static Tensor Keep(Tensor t) => t.IsInvalid ? null! : t.MoveToOuterDisposeScope();

    static byte[] RngState()
    {
        using var state = get_rng_state();
        return state.data<byte>().ToArray();
    }

    static void SetRngState(byte[] state)
    {
        using var t = tensor(state);
        set_rng_state(t);
    }
}
