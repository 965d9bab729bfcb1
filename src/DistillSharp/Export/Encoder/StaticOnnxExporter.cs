using Google.Protobuf;
using Onnx;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Static;
using static DistillSharp.Export.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DistillSharp.Export.Encoder;

/// <summary>
/// ONNX export of a static student (<see cref="StaticEncoder"/>): inputs <c>input_ids</c> and
/// <c>attention_mask</c> (B, T) int64, output <c>sentence_embedding</c> (B, D). The graph is two
/// Gathers and a pooling: rows = Cast(Gather(int8 table, ids)) · Gather(scale', ids) · mask, where
/// scale' is the row scale with the tokens the runtime skips ([CLS], [SEP], [PAD], [UNK], [MASK],
/// [unusedN]) set to 0; then the sum over T and, when the encoder normalises, x / max(‖x‖₂, 1e-12)
/// (the mean's 1/count cancels in the normalisation; without it the graph divides by the count, at least 1).
/// The int8 table stays int8 in the file.
/// </summary>
public static class StaticOnnxExporter
{
    /// <summary>The graph as an in-memory model (opset 17).</summary>
    public static ModelProto Build(StaticEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var table = encoder.Table;
        var g = new OnnxGraphBuilder();
        string ids = g.Input("input_ids", DataType.Int64, "batch", "sequence");
        string mask = g.Input("attention_mask", DataType.Int64, "batch", "sequence");
        string values = g.Int8s("embeddings", table.Values, table.Rows, table.Cols);
        var kept = table.Scales.Select((s, id) => encoder.IsSkipped(id) ? 0f : s).ToArray();
        string scales = g.Floats("embeddings_scale", kept, table.Rows);
        string rows = g.Node("Cast", [g.Node("Gather", [values, ids], "rows/int8")], "rows/float", Attr("to", (long)DataType.Float)); // (B, T, D)
        string maskF = g.Node("Cast", [mask], "mask/float", Attr("to", (long)DataType.Float));                                     // (B, T)
        string weight = g.Node("Mul", [g.Node("Gather", [scales, ids], "rows/scale"), maskF], "rows/weight");                        // (B, T)
        string weighted = g.Node("Mul", [rows, g.Node("Unsqueeze", [weight, g.Longs(-1)], "rows/weight_b_t_1")], "rows/dequantized");
        string pooled = g.Node("ReduceSum", [weighted, g.Longs(1)], "pooling/sum", Attr("keepdims", 0L));                            // (B, D)
        if (encoder.Normalize) pooled = g.L2Normalize(pooled);
        else
        {
            string counted = g.Node("Cast", [g.Node("Greater", [weight, g.Scalar(0f)], "pooling/counted")], "pooling/counted_float", Attr("to", (long)DataType.Float));
            string count = g.Node("Max", [g.Node("ReduceSum", [counted, g.Longs(1)], "pooling/count", Attr("keepdims", 1L)), g.Scalar(1f)], "pooling/count_clamped");
            pooled = g.Node("Div", [pooled, count], "pooling/mean");
        }
        g.Output(pooled, "sentence_embedding", DataType.Float, "batch", table.Cols.ToString());
        var model = g.Build("static_encoder", 17, "DistillSharp");
        model.Graph.DocString = $"static encoder: int8 table [{table.Rows}, {table.Cols}], mean of token rows" + (encoder.Normalize ? " + L2 normalisation" : "");
        return model;
    }

    /// <summary>Writes the graph to <paramref name="path"/> (atomically); returns the file size.</summary>
    public static long Export(StaticEncoder encoder, string path)
    {
        var model = Build(encoder);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new DistillSharpException($"ONNX export: folder '{dir}' does not exist");
        AtomicFile.Write(path, stream => model.WriteTo(stream));
        return new FileInfo(path).Length;
    }
}
