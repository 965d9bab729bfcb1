using DistillSharp.Config.Yaml;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config;

/// <summary>
/// Writes a config of any kind as YAML with every default spelled out, in the shape its binder
/// reads (so <c>ConfigLoader.Parse(ConfigWriter.Write(c))</c> gives back an equal config); the kinds'
/// writers build the tree with <see cref="Map"/> and <see cref="S"/>.
/// </summary>
public static class ConfigWriter
{
    /// <summary>The YAML text of <paramref name="config"/>.</summary>
    public static string Write(IRunConfig config)
    {
        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(ConfigKinds.Of(config).Write(config))).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        // YamlStream.Save ends the document with an explicit "..." marker; a config file does not need it.
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    /// <summary>A scalar node of a setting's value.</summary>
    public static YamlScalarNode S(object value) => YamlValues.Scalar(value);

    /// <summary>A block mapping of (key, node) pairs in order.</summary>
    public static YamlMappingNode Map(params (string Key, YamlNode Value)[] entries) =>
        new(entries.Select(e => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(e.Key), e.Value)));
}
