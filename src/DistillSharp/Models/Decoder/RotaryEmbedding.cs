using DistillSharp.Runtime.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Models.Decoder;

/// <summary>
/// Rotary position embedding on tensors: the frequencies of <see cref="RotaryFrequencies"/> (shared
/// with the INT8 runtime) turned into cos/sin tables and applied in Hugging Face's rotate_half layout.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly RotaryFrequencies _frequencies;

    /// <summary>Frequencies for head width <paramref name="dim"/>, base <paramref name="theta"/> and optional scaling.</summary>
    public RotaryEmbedding(int dim, double theta, RopeScaling? scaling, int maxPositions) =>
        _frequencies = new RotaryFrequencies(dim, theta, scaling, maxPositions);

    /// <summary>θ_i for i in [0, d/2) after static scaling (see <see cref="RotaryFrequencies.InverseFrequencies()"/>).</summary>
    public IReadOnlyList<double> InverseFrequencies() => _frequencies.InverseFrequencies();

    /// <summary>Factor on cos and sin (yarn's attention factor; 1 otherwise).</summary>
    public double AttentionScaling => _frequencies.AttentionScaling;

    /// <summary>θ_i for a forward whose largest position is <paramref name="maxPosition"/>.</summary>
    public double[] InverseFrequencies(long maxPosition) => _frequencies.InverseFrequencies(maxPosition);

    /// <summary>cos and sin tables (B, 1, T, d) for integer positions (B, T).</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positions)
    {
        using var scope = NewDisposeScope();
        long maxPos = positions.numel() == 0 ? 0 : positions.max().item<long>();
        using var inv = tensor(InverseFrequencies(maxPos), dtype: ScalarType.Float64, device: positions.device);
        using var angles = positions.to_type(ScalarType.Float64).unsqueeze(-1) * inv; // (B, T, d/2)
        using var full = cat([angles, angles], -1).unsqueeze(1);                      // (B, 1, T, d)
        var cos = (full.cos() * AttentionScaling).to_type(ScalarType.Float32);
        var sin = (full.sin() * AttentionScaling).to_type(ScalarType.Float32);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>x·cos + rotate_half(x)·sin for x (B, heads, T, d); rotate_half(x) = [−x₂, x₁].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([x2.neg(), x1], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
