namespace DistillSharp.Config.Yaml;

/// <summary>
/// A config error: the message starts with the YAML path of the offending value
/// (<c>stages[1].losses.kl.temperature must be &gt; 0, got -1</c>).
/// </summary>
public sealed class ConfigException : DistillSharpException
{
    /// <summary>Creates the error; <paramref name="message"/> follows the path (after a space, or directly when it starts with a colon).</summary>
    public ConfigException(string path, string message)
        : base(path.Length == 0 ? message.TrimStart(':', ' ')
               : message.StartsWith(':') ? path + message : $"{path} {message}") => Path = path;

    /// <summary>The YAML path, e.g. <c>stages[0].optimizer.lr</c>; empty for the document root.</summary>
    public string Path { get; }
}
