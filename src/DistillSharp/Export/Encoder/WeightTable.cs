using DistillSharp.Models.Encoder;
using DistillSharp.Quantization;

namespace DistillSharp.Export.Encoder;

/// <summary>
/// A model's float32 state dict copied out of TorchSharp (Hugging Face key → row-major data and
/// shape), so the graph writers never touch tensors. Keys are the same whether the Linears are
/// plain or wrapped for fake quantization (the wrappers share the Linear's weight and bias).
/// </summary>
internal sealed class WeightTable
{
    readonly Dictionary<string, (float[] Data, long[] Shape)> _tensors = new(StringComparer.Ordinal);
    readonly string _source;

    public WeightTable(BertEncoderModel model, string source)
    {
        _source = source;
        foreach (var (name, t) in model.state_dict())
            _tensors[name] = (TensorQuant.ToFloatArray(t), t.shape.ToArray());
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public float[] Data(string name) => Get(name).Data;

    public long[] Shape(string name) => Get(name).Shape;

    /// <summary>A Linear's weight [out, in] transposed to the [in, out] layout ONNX MatMul multiplies by.</summary>
    public float[] Transposed(string weightName)
    {
        var (data, shape) = Get(weightName);
        if (shape.Length != 2)
            throw new DistillSharpException($"{_source}: '{weightName}' has shape [{string.Join(", ", shape)}], expected a 2-D Linear weight [out, in]");
        return Transpose(data, (int)shape[0], (int)shape[1]);
    }

    /// <summary>Row-major [rows, cols] → [cols, rows].</summary>
    public static T[] Transpose<T>(T[] data, int rows, int cols)
    {
        var result = new T[data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = data[r * cols + c];
        return result;
    }

    (float[] Data, long[] Shape) Get(string name) =>
        _tensors.TryGetValue(name, out var t) ? t
            : throw new DistillSharpException($"{_source}: the model has no tensor '{name}' (it has e.g. {string.Join(", ", _tensors.Keys.Take(4))})");
}
