namespace DistillSharp;

/// <summary>
/// Bad input that the user can fix: a wrong config key, a missing file, a mismatched tensor. The
/// CLI prints the message alone and exits with code 2.
/// </summary>
public class DistillSharpException : Exception
{
    public DistillSharpException(string message) : base(message) { }
    public DistillSharpException(string message, Exception inner) : base(message, inner) { }
}
