using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Runtime.Classifier;

/// <summary>
/// The INT8 classifier folder: an <see cref="Int8EncoderFile"/> folder (the head's Linears among
/// its tensors) whose config.json is the classifier's (<see cref="ClassifierConfig"/>, with the
/// labels), readable without libtorch.
/// </summary>
public static class Int8ClassifierFile
{
    /// <summary>Writes <paramref name="weights"/> to <paramref name="dir"/> (created if needed; files replaced).</summary>
    public static void Save(Int8ClassifierWeights weights, string dir)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        Int8EncoderFile.Save(weights.Encoder, dir);
        AtomicFile.WriteText(Path.Combine(dir, Int8EncoderFile.ConfigFile), weights.Config.ToJson());
    }

    /// <summary>True when <paramref name="dir"/> holds a saved INT8 classifier.</summary>
    public static bool IsFolder(string dir)
    {
        string config = Path.Combine(dir, Int8EncoderFile.ConfigFile);
        return Int8EncoderFile.IsFolder(dir) && File.Exists(config) && ClassifierConfig.IsClassifierJson(File.ReadAllText(config));
    }

    /// <summary>Loads an INT8 classifier folder, or a run folder's <c>student-int8/</c>.</summary>
    public static Int8ClassifierWeights Load(string path, int? maxLength = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DistillSharpException("no INT8 classifier given");
        string dir = Int8EncoderFile.IsFolder(path) ? path : Path.Combine(path, Int8EncoderFile.RunSubfolder);
        if (!IsFolder(dir))
            throw new DistillSharpException(
                $"{path}: not an INT8 classifier: expected {Int8EncoderFile.RuntimeFile} and a config.json naming {ClassifierConfig.Architecture} in it or in {Int8EncoderFile.RunSubfolder}/");
        var encoder = Int8EncoderFile.Load(dir, maxLength);
        string configPath = Path.Combine(dir, Int8EncoderFile.ConfigFile);
        var config = ClassifierConfig.FromJson(File.ReadAllText(configPath), configPath);
        return new Int8ClassifierWeights(encoder with { Pooling = Pooling.Cls, Normalize = false }, config).Validate();
    }
}
