namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// Packs 4-bit integers two per byte, row by row. Nibble order: within each row, element 2j goes in
/// the low nibble (bits 0–3) and element 2j+1 in the high nibble (bits 4–7) of byte j; a row with an
/// odd number of columns ends with a high nibble of 0. Signed values ([-7, 7]) are stored as 4-bit
/// two's complement (-7 = 0b1001); unsigned values ([0, 15]) as they are. Rows start on a byte
/// boundary so a kernel can address row r at r · ceil(cols / 2).
/// </summary>
public static class Int4Packing
{
    /// <summary>Bytes per packed row of <paramref name="cols"/> 4-bit values.</summary>
    public static int PackedRowBytes(int cols) => (cols + 1) / 2;

    /// <summary>Packs a row-major [rows, cols] matrix of 4-bit values.</summary>
    public static byte[] Pack(ReadOnlySpan<int> values, int rows, int cols, bool signed)
    {
        if (values.Length != (long)rows * cols)
            throw new ArgumentException($"expected {rows}×{cols} = {(long)rows * cols} values, got {values.Length}");
        int lo = signed ? -8 : 0, hi = signed ? 7 : 15;
        var rowBytes = PackedRowBytes(cols);
        var packed = new byte[rows * rowBytes];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                var v = values[r * cols + c];
                if (v < lo || v > hi)
                    throw new ArgumentException($"value {v} at [{r}, {c}] does not fit in 4 bits ({(signed ? "signed" : "unsigned")} range [{lo}, {hi}])");
                var nibble = (byte)(v & 0xF);
                packed[r * rowBytes + c / 2] |= (byte)((c & 1) == 0 ? nibble : nibble << 4);
            }
        }
        return packed;
    }

    /// <summary>Unpacks what <see cref="Pack"/> wrote back into a row-major [rows, cols] array.</summary>
    public static int[] Unpack(ReadOnlySpan<byte> packed, int rows, int cols, bool signed)
    {
        var rowBytes = PackedRowBytes(cols);
        if (packed.Length != (long)rows * rowBytes)
            throw new ArgumentException($"a packed {rows}×{cols} 4-bit matrix takes {(long)rows * rowBytes} bytes, got {packed.Length}");
        var values = new int[rows * cols];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                var b = packed[r * rowBytes + c / 2];
                var nibble = (c & 1) == 0 ? b & 0xF : b >> 4;
                values[r * cols + c] = signed && nibble >= 8 ? nibble - 16 : nibble;
            }
        }
        return values;
    }
}
