namespace DistillSharp.Runtime.Kernels;

/// <summary>What a feed-forward activation computes; <see cref="Activations"/> maps config.json names onto it.</summary>
public enum Activation
{
    /// <summary>The identity (a Linear with no activation).</summary>
    None,
    /// <summary>Exact GELU, x·Φ(x) with erf ("gelu").</summary>
    Gelu,
    /// <summary>The tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) ("gelu_new", "gelu_pytorch_tanh").</summary>
    GeluTanh,
    /// <summary>max(0, x) ("relu").</summary>
    Relu,
    /// <summary>x·σ(x) ("silu", "swish").</summary>
    Silu,
}

/// <summary>
/// The one table of activation names (Hugging Face's <c>hidden_act</c> / <c>activation_function</c>
/// values) that every part reads: the configs, the TorchSharp models, the INT8 kernels and the ONNX
/// exporter. A new activation is one row here and one case in each consumer's switch.
/// </summary>
public static class Activations
{
    static readonly Dictionary<string, Activation> ByName = new(StringComparer.Ordinal)
    {
        ["gelu"] = Activation.Gelu,
        ["gelu_new"] = Activation.GeluTanh,
        ["gelu_pytorch_tanh"] = Activation.GeluTanh,
        ["relu"] = Activation.Relu,
        ["silu"] = Activation.Silu,
        ["swish"] = Activation.Silu,
    };

    /// <summary>Every known name, in table order.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    /// <summary>The activation called <paramref name="name"/>, if known.</summary>
    public static bool TryParse(string name, out Activation activation) => ByName.TryGetValue(name, out activation);

    /// <summary>The activation called <paramref name="name"/>; an unknown name is an error naming <paramref name="key"/> and the known names.</summary>
    public static Activation Parse(string name, string key = "hidden_act") =>
        TryParse(name, out var a) ? a : throw new DistillSharpException($"{key} '{name}' is not supported; known: {string.Join(", ", Names)}");
}
