using DistillSharp.Runtime.Formats;
namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// An embedding table kept in int8 with one scale per row (<see cref="EmbeddingQuantizer"/>: symmetric,
/// scale_r = max|row r| / 127): row r stands for <c>Values[r, :] · Scales[r]</c>. A lookup
/// dequantizes only the rows it gathers, so the table costs a quarter of its fp32 size in memory and
/// on disk.
/// </summary>
/// <param name="Values">Row-major [Rows, Cols] int8 values in [−127, 127].</param>
/// <param name="Scales">[Rows] scales.</param>
/// <param name="Rows">Rows (vocabulary size).</param>
/// <param name="Cols">Columns (hidden size).</param>
public sealed record Int8EmbeddingTable(sbyte[] Values, float[] Scales, int Rows, int Cols)
{
    /// <summary>Quantizes a float [rows, cols] table row by row.</summary>
    public static Int8EmbeddingTable Quantize(FloatTensor table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Shape.Length != 2) throw new DistillSharpException($"an embedding table must be 2-D, got shape {table.ShapeText}");
        int rows = checked((int)table.Shape[0]), cols = checked((int)table.Shape[1]);
        var (values, scales) = EmbeddingQuantizer.Quantize(table.Data, rows, cols);
        return new Int8EmbeddingTable(values, scales, rows, cols);
    }

    /// <summary>The float table this one stands for (<see cref="EmbeddingQuantizer.Dequantize"/>).</summary>
    public FloatTensor Dequantize() => new(EmbeddingQuantizer.Dequantize(Values, Scales, Cols), [Rows, Cols]);

    /// <summary>Shape as "[a, b]".</summary>
    public string ShapeText => $"[{Rows}, {Cols}]";

    /// <summary>Checks the array lengths against [<paramref name="rows"/>, <paramref name="cols"/>]; <paramref name="what"/> names the table in the error.</summary>
    public Int8EmbeddingTable Validate(string what, int rows, int cols)
    {
        if (Rows != rows || Cols != cols)
            throw new DistillSharpException($"{what} has shape {ShapeText}, expected [{rows}, {cols}]");
        if (Values.LongLength != (long)rows * cols || Scales.Length != rows)
            throw new DistillSharpException($"{what}: {Values.LongLength} int8 values and {Scales.Length} scales do not fill {ShapeText}");
        FiniteValues.RequirePositive(Scales, what + " scales");
        return this;
    }
}
