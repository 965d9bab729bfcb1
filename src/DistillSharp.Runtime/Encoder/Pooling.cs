namespace DistillSharp.Runtime.Encoder;

/// <summary>How a sentence embedding is pooled from the last hidden state.</summary>
public enum Pooling
{
    /// <summary>Mean over non-padding tokens (sentence-transformers' default).</summary>
    Mean,
    /// <summary>The first ([CLS]) token.</summary>
    Cls,
}
