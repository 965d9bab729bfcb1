using System.Runtime.InteropServices;
using DistillSharp.Runtime.Formats;
using Onnx;

namespace DistillSharp.Models.Checkpoints;

/// <summary>
/// Lookup tables over an ONNX graph: initializers and Constant outputs by name, producers and
/// consumers. <c>folder</c> is where external tensor data lives (null for a model read from memory).
/// </summary>
internal sealed class OnnxGraphIndex
{
    readonly Dictionary<string, NodeProto> _producers = new();
    readonly Dictionary<string, List<NodeProto>> _consumers = new();
    readonly string? _folder;
    readonly string _source;

    public OnnxGraphIndex(GraphProto graph, string source, string? folder = null)
    {
        _source = source;
        _folder = folder;
        Nodes = graph.Node;
        foreach (var t in graph.Initializer) Initializers[t.Name] = t;
        foreach (var n in graph.Node)
        {
            foreach (string o in n.Output) _producers[o] = n;
            foreach (string i in n.Input)
            {
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = new();
                list.Add(n);
            }
            if (n.OpType == "Constant" && n.Output.Count > 0 && n.Attribute.FirstOrDefault(a => a.Name == "value") is { T: not null } attr)
                Constants[n.Output[0]] = attr.T;
        }
    }

    public IList<NodeProto> Nodes { get; }
    public Dictionary<string, TensorProto> Initializers { get; } = new();
    public Dictionary<string, TensorProto> Constants { get; } = new();

    public IReadOnlyList<NodeProto> Consumers(string value) =>
        _consumers.TryGetValue(value, out var list) ? list : Array.Empty<NodeProto>();

    public NodeProto? Producer(string value) => _producers.GetValueOrDefault(value);

    /// <summary>A scalar from an initializer or a Constant node, or null.</summary>
    public double? Scalar(string value)
    {
        var t = Initializers.GetValueOrDefault(value) ?? Constants.GetValueOrDefault(value);
        if (t is null || t.Dims.Aggregate(1L, (a, b) => a * b) != 1) return null;
        return t.DataType switch
        {
            (int)TensorProto.Types.DataType.Float => Floats(t)[0],
            (int)TensorProto.Types.DataType.Double when t.RawData.Length >= 8 => BitConverter.ToDouble(t.RawData.Span),
            (int)TensorProto.Types.DataType.Double when t.DoubleData.Count > 0 => t.DoubleData[0],
            (int)TensorProto.Types.DataType.Int64 when t.RawData.Length >= 8 => BitConverter.ToInt64(t.RawData.Span),
            (int)TensorProto.Types.DataType.Int64 when t.Int64Data.Count > 0 => t.Int64Data[0],
            _ => null,
        };
    }

    /// <summary>
    /// The attention head size, from the first Softmax: its input is Add(Div(QKᵀ, √d), mask), so
    /// d = round(divisor²). Exporters that multiply by 1/√d instead are handled too.
    /// </summary>
    public int AttentionHeadDim(string source)
    {
        var softmax = Nodes.FirstOrDefault(n => n.OpType == "Softmax" && n.Input.Count > 0)
            ?? throw new DistillSharpException($"{source}: no Softmax in the graph: not a transformer encoder");
        var node = Producer(softmax.Input[0]);
        for (int hops = 0; node != null && hops < 4; hops++)
        {
            if (node.OpType is "Div" or "Mul" && node.Input.Count == 2 && Scalar(node.Input[1]) is double c && c > 0)
            {
                double d = Math.Round(node.OpType == "Div" ? c * c : 1.0 / (c * c));
                if (!(d >= 1 && d <= 65536)) throw new DistillSharpException($"{source}: the attention scaling before '{softmax.Name}' gives a head size of {d}, not a usable one");
                return (int)d;
            }
            node = node.Input.Select(Producer).FirstOrDefault(p => p != null && p.OpType is "Div" or "Mul" or "Add");
        }
        throw new DistillSharpException($"{source}: could not find the 1/√d attention scaling before '{softmax.Name}'");
    }

    /// <summary>
    /// The epsilon of a decomposed LayerNorm, found from its weight: Mul(Div(x - mean, Sqrt(Add(var, eps))), weight).
    /// A fused LayerNormalization node's epsilon attribute is read directly.
    /// </summary>
    public double LayerNormEpsilon(string weightName, string source)
    {
        foreach (var consumer in Consumers(weightName))
        {
            if (consumer.OpType == "LayerNormalization")
                return consumer.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5;
            if (consumer.OpType != "Mul") continue;
            var div = consumer.Input.Select(Producer).FirstOrDefault(p => p?.OpType == "Div");
            var sqrt = div is null || div.Input.Count < 2 ? null : Producer(div.Input[1]);
            var add = sqrt?.OpType == "Sqrt" && sqrt.Input.Count > 0 ? Producer(sqrt.Input[0]) : null;
            if (add?.OpType != "Add") continue;
            foreach (string input in add.Input)
                if (Scalar(input) is double eps)
                    return eps > 0 && eps < 1 ? eps : throw new DistillSharpException($"{source}: the LayerNorm epsilon used with '{weightName}' is {eps}, expected a number in (0, 1)");
        }
        throw new DistillSharpException($"{source}: could not read the LayerNorm epsilon used with '{weightName}'");
    }

    /// <summary>
    /// Float32 tensor data, whether stored in raw_data, float_data or an external file beside the
    /// model; the element count must match the dims, and every value must be finite.
    /// </summary>
    public float[] Floats(TensorProto t)
    {
        string source = _source;
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new DistillSharpException($"{source}: tensor '{t.Name}' has ONNX data type {t.DataType}, expected float32 (1)");
        long count = 1;
        foreach (long d in t.Dims)
            if (d < 0 || (d > 0 && count > Array.MaxLength / d))
                throw new DistillSharpException($"{source}: tensor '{t.Name}' has dims [{string.Join(", ", t.Dims)}], not a usable shape");
            else count *= d;
        float[] data = OnnxModelFile.IsExternal(t)
            ? MemoryMarshal.Cast<byte, float>(OnnxModelFile.ReadExternal(t, _folder, source)).ToArray()
            : t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
        if (data.Length != count)
            throw new DistillSharpException($"{source}: tensor '{t.Name}' holds {data.Length} values, its shape [{string.Join(", ", t.Dims)}] needs {count}");
        FiniteValues.Require(data, $"{source}: tensor '{t.Name}'");
        return data;
    }
}
