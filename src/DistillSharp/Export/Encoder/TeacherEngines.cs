using DistillSharp.Models.Encoder;
using Google.Protobuf;

namespace DistillSharp.Export.Encoder;

/// <summary>The engines a frozen teacher can run in for distillation, by name (one row each).</summary>
public static class TeacherEngines
{
    /// <summary>Engine name → factory (teacher, threads, outputs).</summary>
    public static readonly IReadOnlyDictionary<string, Func<SentenceEncoder, int, TeacherOutputs, ITeacherForward>> All =
        new Dictionary<string, Func<SentenceEncoder, int, TeacherOutputs, ITeacherForward>>
        {
            ["torchsharp"] = (teacher, _, outputs) => new TorchTeacherForward(teacher, outputs),
            ["onnxruntime"] = OnnxRuntime,
        };

    /// <summary>The engine named <paramref name="name"/> for <paramref name="teacher"/>; unknown names list the known ones.</summary>
    public static ITeacherForward Create(string name, SentenceEncoder teacher, int threads, TeacherOutputs outputs) =>
        All.TryGetValue(name, out var make) ? make(teacher, threads, outputs)
            : throw new DistillSharpException($"unknown teacher engine '{name}'; known: {string.Join(", ", All.Keys)}");

    /// <summary>
    /// <paramref name="teacher"/> exported to fp32 ONNX with exactly <paramref name="outputs"/> as extra
    /// outputs (in memory) and run by ONNX Runtime with <paramref name="threads"/> intra-op threads.
    /// </summary>
    public static OnnxTeacherForward OnnxRuntime(SentenceEncoder teacher, int threads, TeacherOutputs outputs)
    {
        var proto = OnnxExporter.BuildFp32(teacher.Model, new OnnxExportOptions(Pooling: teacher.Pooling, Normalize: teacher.Normalize, DistillationOutputs: outputs));
        return new OnnxTeacherForward(proto.ToByteArray(), teacher.Model.Config, teacher.Pooling, teacher.Normalize, threads, outputs);
    }
}
