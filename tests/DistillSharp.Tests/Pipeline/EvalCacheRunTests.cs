using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Tests.Pipeline;

/// <summary>
/// The whole encoder pipeline twice on a tiny teacher with the real evaluation data: the second run
/// reads the teacher's and the baseline's tasks from the evaluation cache, and its report.json holds
/// exactly the first run's quality numbers.
/// </summary>
public sealed class EvalCacheRunTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evalcache-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    [Trait("Category", "Slow")]
    public void ASecondRunReadsTeacherAndBaselineFromTheCacheWithIdenticalNumbers()
    {
        string teacher = Path.Combine(_dir, "teacher");
        using (var encoder = TinyModels.Encoder(seed: 2)) HuggingFaceFolder.Save(encoder, teacher);
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 64).Select(i => string.Join(' ', Enumerable.Range(0, 3 + i % 7).Select(j => TinyModels.Words[(i + j * 3) % 26]))));
        var config = ConfigLoader.Parse<RunConfig>($$"""
            teacher: { source: {{teacher}} }
            student: { layers: 1, hidden: 32, heads: 4, ffn: 64, init: teacher, teacher_layers: [1] }
            data: { corpus: {{corpus}}, max_len: 32, batch: 8 }
            stages: [ { name: align, steps: 3, losses: { hidden_mse: 1.0 }, log_every: 1 } ]
            quantize: { recipe: int8-dynamic }
            eval: [ wordnet-retrieval, spam-f1, agreement ]
            bench: { batch: [1, 2], seq: 16, runs: 2 }
            seed: 3
            """);
        // A cache root of its own, sharing only the fetched data sets.
        string root = Path.Combine(_dir, "cache"), previous = Environment.GetEnvironmentVariable("DISTILLSHARP_CACHE") ?? "";
        string npm = CachePaths.Npm;
        Directory.CreateDirectory(root);
        Directory.CreateSymbolicLink(Path.Combine(root, "npm"), npm);
        Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", root);
        try
        {
            var first = RunReportJson.Load(RunPipeline.Run(config, new RunOptions(Path.Combine(_dir, "run1"), null, false, null, TextWriter.Null)).ReportPath);
            var second = RunReportJson.Load(RunPipeline.Run(config, new RunOptions(Path.Combine(_dir, "run2"), null, false, null, TextWriter.Null)).ReportPath);
            Assert.Null(first.Variant("teacher")!.QualityCached);
            Assert.Equal(["wordnet_retrieval", "spam_f1"], second.Variant("teacher")!.QualityCached);
            Assert.Equal(["wordnet_retrieval", "spam_f1", "agreement"], second.Variant("baseline")!.QualityCached);
            // The ONNX Runtime row runs the student's graph: it reads the student's entry even in the first run.
            Assert.Equal(["wordnet_retrieval", "spam_f1", "agreement"], first.Variant("student_onnxruntime")!.QualityCached);
            // The INT8 rows are keyed by the files the run wrote: computed in the first run, read in the second.
            Assert.Null(first.Variant("student_int8")!.QualityCached);
            Assert.Null(first.Variant("student_int8_onnxruntime")!.QualityCached);
            Assert.Equal(["wordnet_retrieval", "spam_f1", "agreement"], second.Variant("student_int8")!.QualityCached);
            Assert.Equal(["wordnet_retrieval", "spam_f1", "agreement"], second.Variant("student_int8_onnxruntime")!.QualityCached);
            foreach (string v in new[] { "teacher", "baseline", "student", "student_onnxruntime", "student_int8", "student_int8_onnxruntime" })
                Assert.Equal(System.Text.Json.JsonSerializer.Serialize(first.Variant(v)!.Quality), System.Text.Json.JsonSerializer.Serialize(second.Variant(v)!.Quality));
            Assert.Contains("evaluate teacher", first.Run!.PhaseSeconds!.Keys);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", previous.Length == 0 ? null : previous);
        }
    }
}
