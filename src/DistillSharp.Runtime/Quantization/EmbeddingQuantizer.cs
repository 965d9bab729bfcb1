namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// Row-wise symmetric int8 quantization of an embedding table: row r is stored as int8 values in
/// [-127, 127] with scale_r = max|row r| / 127 (never below <see cref="QuantReference.MinScale"/>),
/// i.e. <see cref="QuantReference"/> per channel along axis 0. A lookup dequantizes only the rows it
/// gathers, so the table stays int8 in memory. Used by the INT8 ONNX export; the same function gives
/// the float reference the export is tested against.
/// </summary>
public static class EmbeddingQuantizer
{
    /// <summary>Quantizes a row-major [rows, cols] table.</summary>
    public static (sbyte[] Values, float[] Scales) Quantize(float[] table, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0 || (long)rows * cols != table.Length)
            throw new DistillSharpException($"embedding table of {table.Length} values does not have shape [{rows}, {cols}]");
        var mins = new float[rows];
        var maxs = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = table.AsSpan(r * cols, cols);
            float lo = 0, hi = 0;
            foreach (float v in row) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
            (mins[r], maxs[r]) = (lo, hi);
        }
        var p = QuantReference.ChooseQParams(mins, maxs, QuantSpec.Int8PerChannel(0));
        int[] q = QuantReference.Quantize(table, [rows, cols], p);
        return (q.Select(v => (sbyte)v).ToArray(), p.Scales);
    }

    /// <summary>The float table the quantized one stands for: q · scale_row.</summary>
    public static float[] Dequantize(sbyte[] values, float[] scales, int cols)
    {
        if (values.Length != (long)scales.Length * cols)
            throw new DistillSharpException($"{values.Length} int8 values do not fill [{scales.Length}, {cols}]");
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i] * scales[i / cols];
        return result;
    }
}
