using DistillSharp.Runtime.Formats;
using static TorchSharp.torch;

namespace DistillSharp.Models.Checkpoints;

/// <summary>
/// The TorchSharp side of <see cref="Safetensors"/>: stored tensors to and from libtorch tensors.
/// The format itself lives in the runtime assembly, which does not know libtorch.
/// </summary>
public static class TorchSafetensors
{
    static readonly Dictionary<string, ScalarType> Types = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>The safetensors dtype name of a torch dtype.</summary>
    public static string DtypeName(ScalarType type) =>
        Types.FirstOrDefault(kv => kv.Value == type).Key ?? throw new ArgumentException($"dtype {type} has no safetensors name");

    /// <summary>Copies a tensor's bytes out (contiguous, CPU).</summary>
    public static SafeTensor FromTensor(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return new SafeTensor(DtypeName(c.dtype), c.shape, c.bytes.ToArray());
    }

    /// <summary>Makes a CPU tensor holding a copy of the stored bytes.</summary>
    public static Tensor ToTensor(SafeTensor t)
    {
        var result = empty(t.Shape, Types[t.Dtype]);
        result.bytes = t.Data;
        return result;
    }
}
