namespace DistillSharp.Runtime.Formats;

/// <summary>A float32 tensor as the runtime stores it: row-major values and their shape.</summary>
public sealed record FloatTensor(float[] Data, long[] Shape)
{
    /// <summary>Shape as "[a, b]".</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
