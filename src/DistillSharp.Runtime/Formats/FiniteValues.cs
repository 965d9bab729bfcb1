namespace DistillSharp.Runtime.Formats;

/// <summary>Load-time checks of float values: weights must be finite, scales finite and positive.</summary>
public static class FiniteValues
{
    /// <summary>Throws naming <paramref name="what"/> and the element when a value is NaN or infinite.</summary>
    public static void Require(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new DistillSharpException($"{what} holds {values[i]} at element {i:N0}; weights must be finite (the file is corrupt)");
    }

    /// <summary>Throws naming <paramref name="what"/> and the element when a scale is not a finite number &gt; 0.</summary>
    public static void RequirePositive(ReadOnlySpan<float> values, string what)
    {
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] > 0) || !float.IsFinite(values[i]))
                throw new DistillSharpException($"{what} holds {values[i]} at element {i:N0}; quantization scales must be finite and > 0 (the file is corrupt)");
    }
}
