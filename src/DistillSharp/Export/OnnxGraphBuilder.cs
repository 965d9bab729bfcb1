using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DistillSharp.Export;

/// <summary>
/// Appends nodes and initializers to an ONNX graph (the generated protobuf classes of OnnxSharp)
/// with unique value names, so the BERT writer reads as a list of ops. Nodes are added in
/// topological order: every input is an initializer, a graph input or an earlier node's output.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _scalars = new(StringComparer.Ordinal);
    int _counter;

    public GraphProto Graph { get; } = new();

    /// <summary>Adds a graph input of <paramref name="type"/> with symbolic (dynamic) dimensions.</summary>
    public string Input(string name, DataType type, params string[] symbolicDims)
    {
        Claim(name);
        Graph.Input.Add(ValueInfo(name, type, symbolicDims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> (an existing node output) as graph output <paramref name="name"/> via Identity when the names differ.</summary>
    public void Output(string value, string name, DataType type, params string[] symbolicDims)
    {
        if (value != name)
        {
            Claim(name);
            Graph.Node.Add(NewNode("Identity", [value], [name], name + "/Identity"));
        }
        Graph.Output.Add(ValueInfo(name, type, symbolicDims));
    }

    /// <summary>Adds a float32 initializer.</summary>
    public string Floats(string name, ReadOnlySpan<float> data, params long[] dims) =>
        Add(name, DataType.Float, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>Adds an int8 initializer.</summary>
    public string Int8s(string name, ReadOnlySpan<sbyte> data, params long[] dims) =>
        Add(name, DataType.Int8, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>Adds a uint8 initializer.</summary>
    public string UInt8s(string name, ReadOnlySpan<byte> data, params long[] dims) =>
        Add(name, DataType.Uint8, data, data.Length, dims);

    /// <summary>Adds an int64 initializer.</summary>
    public string Int64s(string name, ReadOnlySpan<long> data, params long[] dims) =>
        Add(name, DataType.Int64, MemoryMarshal.AsBytes(data), data.Length, dims);

    /// <summary>A float32 scalar (rank 0) initializer, shared between uses of the same value.</summary>
    public string Scalar(float value, string? name = null)
    {
        string key = name ?? $"const_f32_{BitConverter.SingleToInt32Bits(value):x8}";
        if (_scalars.TryGetValue(key, out var existing)) return existing;
        float[] data = [value];
        return _scalars[key] = name is null
            ? Add(Fresh($"const_{value:G6}"), DataType.Float, MemoryMarshal.AsBytes(data.AsSpan()), 1, [], claim: false)
            : Floats(name, data);
    }

    /// <summary>A 1-D int64 initializer (axes, shapes), shared between uses of the same value.</summary>
    public string Longs(params long[] values)
    {
        string key = "i64:" + string.Join(",", values);
        if (_scalars.TryGetValue(key, out var existing)) return existing;
        return _scalars[key] = Add(Fresh($"const_i64_[{string.Join("_", values)}]"), DataType.Int64,
            MemoryMarshal.AsBytes(values.AsSpan()), values.Length, [values.Length], claim: false);
    }

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, string[] inputs, string outputHint, params AttributeProto[] attributes) =>
        Node(op, inputs, 1, outputHint, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string op, string[] inputs, int outputs, string outputHint, params AttributeProto[] attributes)
    {
        string nodeName = Fresh(outputHint + "/" + op);
        var names = Enumerable.Range(0, outputs).Select(i => Fresh(outputs == 1 ? outputHint : $"{outputHint}_{i}")).ToArray();
        var node = NewNode(op, inputs, names, nodeName);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return names;
    }

    /// <summary>x / max(‖x‖₂, 1e-12) over the last axis, as torch.nn.functional.normalize.</summary>
    public string L2Normalize(string x)
    {
        string sq = Node("ReduceSum", [Node("Mul", [x, x], "normalize/square"), Longs(-1)], "normalize/sum_sq", Attr("keepdims", 1L));
        string norm = Node("Max", [Node("Sqrt", [sq], "normalize/norm"), Scalar(1e-12f)], "normalize/norm_clamped");
        return Node("Div", [x, norm], "normalize/unit");
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Attr(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Attr(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An integer-list attribute.</summary>
    public static AttributeProto Attr(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>Wraps the graph in a model with the default-domain <paramref name="opset"/>.</summary>
    public ModelProto Build(string graphName, long opset, string producer)
    {
        Graph.Name = graphName;
        var model = new ModelProto
        {
            IrVersion = 8, // IR 8 is what opset 17–18 shipped with; ORT reads it
            ProducerName = producer,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>A name not used yet, derived from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name = hint;
        while (_names.Contains(name)) name = $"{hint}_{++_counter}";
        _names.Add(name);
        return name;
    }

    string Add(string name, DataType type, ReadOnlySpan<byte> bytes, int count, long[] dims, bool claim = true)
    {
        long expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != count)
            throw new ArgumentException($"initializer '{name}': {count} values do not fill shape [{string.Join(", ", dims)}]");
        if (claim) Claim(name);
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        Graph.Initializer.Add(t);
        return name;
    }

    void Claim(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"ONNX value name '{name}' is used twice");
    }

    static NodeProto NewNode(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, string name)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    static ValueInfoProto ValueInfo(string name, DataType type, string[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (string d in dims)
            shape.Dim.Add(long.TryParse(d, out long v)
                ? new TensorShapeProto.Types.Dimension { DimValue = v }
                : new TensorShapeProto.Types.Dimension { DimParam = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
