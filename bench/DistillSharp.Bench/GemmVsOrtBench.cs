using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Bench;

/// <summary>
/// One quantized Linear, ours against ONNX Runtime's own fused op on the same shapes: our dynamic
/// per-token quantization + int8 GEMM (+ bias) against a one-node ONNX graph
/// <c>com.microsoft.DynamicQuantizeMatMul(X, W int8, w_scale per column, bias)</c> — the node ORT
/// fuses the INT8 export's MatMulInteger pattern into (per-tensor u8 activations). One thread, thread
/// CPU time, interleaved rounds. MACs per cycle use the core clock given as <c>--ghz</c>.
/// </summary>
static class GemmVsOrtBench
{
    public sealed record Row(int M, int K, int N, Dictionary<string, double> MedianUs, Dictionary<string, double> GmacPerS,
        Dictionary<string, double> MacPerCycle, double OrtOverOurs);

    public static List<Row> Run(IReadOnlyList<(int M, int K, int N)> shapes, double ghz)
    {
        var rows = new List<Row>();
        using var gemm = new Int8Gemm(new Int8GemmOptions(Threads: 1));
        foreach (var (m, k, n) in shapes)
        {
            var rng = new Random(m + 7 * k + 13 * n);
            var x = new float[m * k];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
            var w = new sbyte[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
            var scales = Enumerable.Range(0, n).Select(i => 0.01f + i * 1e-5f).ToArray();
            var bias = Enumerable.Range(0, n).Select(i => i * 1e-3f).ToArray();
            var packed = new PackedInt8Weights(w, scales, n, k);
            var qs = new QuantizedActivations(m, k, ActivationQuantization.SymmetricS8);
            var qa = new QuantizedActivations(m, k, ActivationQuantization.AsymmetricU8);
            var y = new float[m * n];

            using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(Graph(w, scales, bias, k, n), options);
            using var xv = OrtValue.CreateTensorValueFromMemory(x, [m, k]);
            using var yv = OrtValue.CreateTensorValueFromMemory(new float[m * n], [m, n]);
            using var run = new RunOptions();
            string[] inNames = ["X"], outNames = ["Y"];
            OrtValue[] ins = [xv], outs = [yv];

            var stats = Timing.Interleaved(new List<(string, Action)>
            {
                ("ours_symmetric", () => { ActivationQuantizer.Quantize(x, m, qs); gemm.Multiply(qs, packed, bias, y); }),
                ("ours_asymmetric", () => { ActivationQuantizer.Quantize(x, m, qa); gemm.Multiply(qa, packed, bias, y); }),
                ("ours_gemm_only", () => gemm.Multiply(qs, packed, bias, y)),
                ("ort_dqmm", () => session.Run(run, inNames, ins, outNames, outs)),
            }, budgetSeconds: 2, warmup: 5, minRounds: 15, threadCpuTime: true);
            double macs = (double)m * k * n;
            var us = stats.ToDictionary(s => s.Key, s => Math.Round(s.Value.MedianSeconds * 1e6, 1));
            var gmac = stats.ToDictionary(s => s.Key, s => Math.Round(macs / s.Value.MedianSeconds / 1e9, 1));
            var perCycle = stats.ToDictionary(s => s.Key, s => Math.Round(macs / s.Value.MedianSeconds / (ghz * 1e9), 1));
            var row = new Row(m, k, n, us, gmac, perCycle, Math.Round(us["ort_dqmm"] / us["ours_symmetric"], 3));
            rows.Add(row);
            Console.Error.WriteLine($"M={m} K={k} N={n}: " + string.Join(", ", us.Select(p => $"{p.Key} {p.Value} us ({gmac[p.Key]} GMAC/s)")) +
                                    $"; ort/ours {row.OrtOverOurs}");
        }
        return rows;
    }

    // Y = DynamicQuantizeMatMul(X, W[K, N], w_scale[N], w_zero_point[N] = 0, bias[N]).
    static byte[] Graph(sbyte[] wNk, float[] scales, float[] bias, int k, int n)
    {
        var wKn = new sbyte[k * n];
        for (int c = 0; c < n; c++)
            for (int r = 0; r < k; r++) wKn[r * n + c] = wNk[c * k + r];
        var g = new GraphProto { Name = "dqmm" };
        g.Input.Add(Value("X", TensorProto.Types.DataType.Float, "M", k.ToString()));
        g.Output.Add(Value("Y", TensorProto.Types.DataType.Float, "M", n.ToString()));
        g.Initializer.Add(Tensor("W", TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(wKn.AsSpan()), k, n));
        g.Initializer.Add(Tensor("S", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(scales.AsSpan()), n));
        g.Initializer.Add(Tensor("Z", TensorProto.Types.DataType.Int8, new byte[n], n));
        g.Initializer.Add(Tensor("B", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(bias.AsSpan()), n));
        var node = new NodeProto { OpType = "DynamicQuantizeMatMul", Domain = "com.microsoft", Name = "dqmm" };
        node.Input.AddRange(["X", "W", "S", "Z", "B"]);
        node.Output.Add("Y");
        g.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = g, ProducerName = "gemm-vs-ort" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return model.ToByteArray();
    }

    static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params string[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (string d in dims)
            shape.Dim.Add(int.TryParse(d, out int v) ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    static TensorProto Tensor(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }
}
