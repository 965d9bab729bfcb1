namespace DistillSharp.Config;

/// <summary>The shipped configs/*.yaml embedded in the library, so that `distill run` and `distill pretrain` work wherever the tool is installed.</summary>
public static class BuiltinConfigs
{
    /// <summary>configs/default.yaml: what `distill run` does with no config.</summary>
    public static string Default => Text("default.yaml");

    /// <summary>configs/lm-default.yaml: the decoder recipe `distill pretrain` uses with no config.</summary>
    public static string LmDefault => Text("lm-default.yaml");

    /// <summary>The text of an embedded config file.</summary>
    public static string Text(string file)
    {
        using var stream = typeof(BuiltinConfigs).Assembly.GetManifestResourceStream("DistillSharp.configs." + file)
            ?? throw new InvalidOperationException($"configs/{file} is not embedded in the library");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
