using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Tests.Pipeline;

/// <summary>
/// A two-student frontier run (a static student and a 1-layer transformer) on a tiny teacher with the
/// real evaluation data: every frontier row is timed again side by side at the end, and the frontier
/// and the selection read those speeds.
/// </summary>
public sealed class FrontierRunTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("frontier-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    [Trait("Category", "Slow")]
    public void TheFrontiersRowsAreTimedSideBySideAtTheEnd()
    {
        string teacher = Path.Combine(_dir, "teacher");
        using (var encoder = TinyModels.Encoder(seed: 2)) HuggingFaceFolder.Save(encoder, teacher);
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 64).Select(i => string.Join(' ', Enumerable.Range(0, 3 + i % 7).Select(j => TinyModels.Words[(i + j * 3) % 26]))));
        var config = ConfigLoader.Parse<RunConfig>($$"""
            teacher: { source: {{teacher}} }
            students:
              - { name: st, student: { kind: static, dims: 16 } }
              - { name: l1, student: { layers: 1, hidden: 32, heads: 4, ffn: 64, init: teacher, teacher_layers: [1] } }
            data: { corpus: {{corpus}}, max_len: 32, batch: 8 }
            stages: [ { name: align, steps: 2, losses: { hidden_mse: 1.0 }, log_every: 1 } ]
            select: { max_latency_ms: 100000 }
            quantize: { recipe: int8-dynamic }
            eval: [ wordnet-retrieval ]
            bench: { batch: [1, 2], seq: 16, runs: 3 }
            seed: 3
            """);
        string root = Path.Combine(_dir, "cache"), previous = Environment.GetEnvironmentVariable("DISTILLSHARP_CACHE") ?? "";
        Directory.CreateDirectory(root);
        Directory.CreateSymbolicLink(Path.Combine(root, "npm"), CachePaths.Npm);
        Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", root);
        try
        {
            var log = new StringWriter();
            var report = RunReportJson.Load(RunPipeline.Run(config, new RunOptions(Path.Combine(_dir, "run"), null, false, null, log)).ReportPath);
            // teacher, st, l1 and l1_int8: the four frontier rows, in one interleaved pass.
            Assert.Contains("timing 4 rows side by side", log.ToString());
            Assert.Contains(FrontierRunPipeline.SideBySidePhase, report.Run!.PhaseSeconds!.Keys);
            Assert.Contains(report.Notes!, n => n.Contains("side by side in one interleaved pass"));
            var frontier = report.Frontier!;
            var points = frontier.Points!;
            Assert.Equal(["teacher", "st", "l1", "l1_int8"], points.Select(p => p.Variant));
            // The frontier reads the speeds the report's rows hold.
            foreach (var p in points)
                Assert.Equal(report.Variant(p.Variant)!.LatencyMs!.P50!.Value, p.P50Ms!.Value, 2);
            Assert.NotNull(frontier.Selection!.Chosen);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", previous.Length == 0 ? null : previous);
        }
    }
}
