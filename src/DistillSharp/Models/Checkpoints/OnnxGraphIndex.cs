using System.Runtime.InteropServices;
using Onnx;

namespace DistillSharp.Models.Checkpoints;

/// <summary>Lookup tables over an ONNX graph: initializers and Constant outputs by name, producers and consumers.</summary>
internal sealed class OnnxGraphIndex
{
    readonly Dictionary<string, NodeProto> _producers = new();
    readonly Dictionary<string, List<NodeProto>> _consumers = new();

    public OnnxGraphIndex(GraphProto graph)
    {
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
            if (n.OpType == "Constant" && n.Attribute.FirstOrDefault(a => a.Name == "value") is { T: not null } attr)
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
            (int)TensorProto.Types.DataType.Float => ToFloats(t, value)[0],
            (int)TensorProto.Types.DataType.Double => t.RawData.Length >= 8 ? BitConverter.ToDouble(t.RawData.Span) : t.DoubleData[0],
            (int)TensorProto.Types.DataType.Int64 => t.RawData.Length >= 8 ? BitConverter.ToInt64(t.RawData.Span) : t.Int64Data[0],
            _ => null,
        };
    }

    /// <summary>
    /// The attention head size, from the first Softmax: its input is Add(Div(QKᵀ, √d), mask), so
    /// d = round(divisor²). Exporters that multiply by 1/√d instead are handled too.
    /// </summary>
    public int AttentionHeadDim(string source)
    {
        var softmax = Nodes.FirstOrDefault(n => n.OpType == "Softmax")
            ?? throw new DistillSharpException($"{source}: no Softmax in the graph: not a transformer encoder");
        var node = Producer(softmax.Input[0]);
        for (int hops = 0; node != null && hops < 4; hops++)
        {
            if (node.OpType is "Div" or "Mul" && Scalar(node.Input[1]) is double c && c > 0)
                return (int)Math.Round(node.OpType == "Div" ? c * c : 1.0 / (c * c));
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
            var sqrt = div is null ? null : Producer(div.Input[1]);
            var add = sqrt?.OpType == "Sqrt" ? Producer(sqrt.Input[0]) : null;
            if (add?.OpType != "Add") continue;
            foreach (string input in add.Input)
                if (Scalar(input) is double eps) return eps;
        }
        throw new DistillSharpException($"{source}: could not read the LayerNorm epsilon used with '{weightName}'");
    }

    /// <summary>Float32 tensor data, whether stored in raw_data or float_data.</summary>
    public static float[] ToFloats(TensorProto t, string source)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new DistillSharpException($"{source}: tensor '{t.Name}' has ONNX data type {t.DataType}, expected float32 (1)");
        long count = t.Dims.Aggregate(1L, (a, b) => a * b);
        float[] data = t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
        if (data.Length != count)
            throw new DistillSharpException($"{source}: tensor '{t.Name}' holds {data.Length} values, its shape [{string.Join(", ", t.Dims)}] needs {count}");
        return data;
    }
}
