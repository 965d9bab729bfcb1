using static TorchSharp.torch;

namespace DistillSharp.Models.Decoder;

/// <summary>Feed-forward activations by their config.json name (explicit table; unknown names list the known ones).</summary>
public static class Activations
{
    static readonly Dictionary<string, Func<Tensor, Tensor>> Table = new()
    {
        ["silu"] = x => nn.functional.silu(x),
        ["swish"] = x => nn.functional.silu(x),
        ["gelu"] = x => nn.functional.gelu(x),
        ["gelu_new"] = GeluTanh,
        ["gelu_pytorch_tanh"] = GeluTanh,
        ["relu"] = x => nn.functional.relu(x),
    };

    /// <summary>Known activation names.</summary>
    public static IReadOnlyCollection<string> Known => Table.Keys;

    /// <summary>The activation called <paramref name="name"/>.</summary>
    public static Func<Tensor, Tensor> Get(string name) =>
        Table.TryGetValue(name, out var f) ? f
            : throw new DistillSharpException($"activation '{name}' is not supported; known: {string.Join(", ", Table.Keys)}");

    /// <summary>GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static Tensor GeluTanh(Tensor x)
    {
        using var cube = x.pow(3);
        using var inner = (x + cube * 0.044715) * Math.Sqrt(2.0 / Math.PI);
        using var t = inner.tanh_().add_(1.0);
        return x.mul(t).mul_(0.5);
    }
}
