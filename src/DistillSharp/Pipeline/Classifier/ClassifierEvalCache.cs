using DistillSharp.Distillation.Encoder;
using DistillSharp.Models.Classifier;
using DistillSharp.Pipeline.Encoder;

namespace DistillSharp.Pipeline.Classifier;

/// <summary>
/// A frozen classifier's test-set probabilities in the evaluation cache (<see cref="EvalCache"/>), so a
/// classify run whose teacher and test texts are unchanged scores the teacher from disk instead of
/// running it again. The key covers the weights (content hash), the runtime, the tokenizer, the
/// labels and every test text in order; the record holds the probabilities as float32, which the
/// scores (accuracy, macro-F1, ECE, bootstrap intervals) are then computed from as on a fresh pass.
/// </summary>
public static class ClassifierEvalCache
{
    /// <summary>The key scheme and the record format's version.</summary>
    public const string Scheme = "distillsharp-classifier-probabilities-v1";

    static readonly byte[] Settings = "classifier-probabilities rows=int32 classes=int32 values=float32"u8.ToArray();

    /// <summary>The key of <paramref name="model"/>'s probabilities on <paramref name="texts"/> computed by <paramref name="runtime"/>.</summary>
    public static string Key(SequenceClassifier model, string runtime, IReadOnlyList<string> texts)
    {
        var t = model.Tokenizer;
        using var key = new ContentKey(Scheme);
        key.Add(TeacherCache.WeightsIdentity(model.Model)).Add(runtime).Add(t.VocabText).Add($"lower={t.LowerCase} max_len={t.MaxLength}")
            .Add(string.Join("\u0001", model.Labels)).Add($"texts={texts.Count}");
        foreach (string text in texts) key.Add(text);
        return key.Key();
    }

    /// <summary>
    /// The probabilities under <paramref name="key"/> (<paramref name="hit"/> true), or <paramref name="compute"/>d
    /// and stored; a record of another shape than <paramref name="rows"/> × <paramref name="classes"/> is recomputed.
    /// </summary>
    public static float[][] Probabilities(EvalCache cache, string key, int rows, int classes, Func<float[][]> compute, TextWriter? log, out bool hit) =>
        cache.GetOrCompute(key, Settings, compute, Encode, bytes => Decode(bytes, rows, classes), log, out hit);

    static byte[] Encode(float[][] probabilities)
    {
        int classes = probabilities.Length > 0 ? probabilities[0].Length : 0;
        var bytes = new byte[8 + 4L * probabilities.Length * classes];
        BitConverter.TryWriteBytes(bytes, probabilities.Length);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), classes);
        int offset = 8;
        foreach (var row in probabilities)
        {
            if (row.Length != classes) throw new ArgumentException($"probability rows differ in length: {row.Length} vs {classes}");
            Buffer.BlockCopy(row, 0, bytes, offset, 4 * classes);
            offset += 4 * classes;
        }
        return bytes;
    }

    // Null unless the record is exactly rows × classes floats.
    static float[][]? Decode(byte[] bytes, int rows, int classes)
    {
        if (bytes.Length < 8 || BitConverter.ToInt32(bytes, 0) != rows || BitConverter.ToInt32(bytes, 4) != classes) return null;
        if (bytes.Length != 8 + 4L * rows * classes) return null;
        var result = new float[rows][];
        for (int i = 0; i < rows; i++)
        {
            result[i] = new float[classes];
            Buffer.BlockCopy(bytes, 8 + 4 * i * classes, result[i], 0, 4 * classes);
        }
        return result;
    }
}
