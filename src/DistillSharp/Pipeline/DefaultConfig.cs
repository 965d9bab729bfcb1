namespace DistillSharp.Pipeline;

/// <summary>configs/default.yaml, embedded so that `distill run` works wherever the tool is installed.</summary>
public static class DefaultConfig
{
    /// <summary>The YAML text.</summary>
    public static string Yaml
    {
        get
        {
            using var stream = typeof(DefaultConfig).Assembly.GetManifestResourceStream("DistillSharp.configs.default.yaml")
                ?? throw new InvalidOperationException("configs/default.yaml is not embedded in the library");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }
}
