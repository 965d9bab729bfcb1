using DistillSharp.Models.Encoder;
using Google.Protobuf;

namespace DistillSharp.Export.Encoder;

/// <summary>The engines a frozen teacher can run in for distillation, by name (one row each).</summary>
public static class TeacherEngines
{
    /// <summary>Engine name → factory (teacher, threads).</summary>
    public static readonly IReadOnlyDictionary<string, Func<SentenceEncoder, int, ITeacherForward>> All =
        new Dictionary<string, Func<SentenceEncoder, int, ITeacherForward>>
        {
            ["torchsharp"] = (teacher, _) => new TorchTeacherForward(teacher),
            ["onnxruntime"] = OnnxRuntime,
        };

    /// <summary>The engine named <paramref name="name"/> for <paramref name="teacher"/>; unknown names list the known ones.</summary>
    public static ITeacherForward Create(string name, SentenceEncoder teacher, int threads) =>
        All.TryGetValue(name, out var make) ? make(teacher, threads)
            : throw new DistillSharpException($"unknown teacher engine '{name}'; known: {string.Join(", ", All.Keys)}");

    /// <summary>
    /// <paramref name="teacher"/> exported to fp32 ONNX with its distillation outputs (in memory) and
    /// run by ONNX Runtime with <paramref name="threads"/> intra-op threads.
    /// </summary>
    public static OnnxTeacherForward OnnxRuntime(SentenceEncoder teacher, int threads)
    {
        var proto = OnnxExporter.BuildFp32(teacher.Model, new OnnxExportOptions(Pooling: teacher.Pooling, Normalize: teacher.Normalize, DistillationOutputs: true));
        return new OnnxTeacherForward(proto.ToByteArray(), teacher.Model.Config, teacher.Pooling, teacher.Normalize, threads);
    }
}
