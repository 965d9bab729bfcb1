using DistillSharp.Runtime.Kernels;
using static TorchSharp.torch;

namespace DistillSharp.Models;

/// <summary>
/// The TorchSharp function of every entry of the activation table (<see cref="Activations"/>): the
/// encoder's and the decoders' feed-forward activations, looked up by their config.json name.
/// </summary>
public static class TorchActivations
{
    static readonly Dictionary<Activation, Func<Tensor, Tensor>> Table = new()
    {
        [Activation.None] = x => x.alias(),
        [Activation.Gelu] = x => nn.functional.gelu(x),          // exact: x·Φ(x) with erf
        [Activation.GeluTanh] = GeluTanh,
        [Activation.Relu] = x => nn.functional.relu(x),
        [Activation.Silu] = x => nn.functional.silu(x),
    };

    /// <summary>The function of the activation called <paramref name="name"/>; an unknown name lists the known ones.</summary>
    public static Func<Tensor, Tensor> Get(string name) => Table[Activations.Parse(name)];

    /// <summary>The tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2's "gelu_new").</summary>
    public static Tensor GeluTanh(Tensor x)
    {
        using var cube = x.pow(3);
        using var inner = (x + cube * 0.044715) * Math.Sqrt(2.0 / Math.PI);
        using var t = inner.tanh_().add_(1.0);
        return x.mul(t).mul_(0.5);
    }
}
