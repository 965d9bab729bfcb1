using DistillSharp.Config;
using DistillSharp.Config.Decoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Pipeline.Decoder;
using DistillSharp.Quantization.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Serving;
using Xunit.Abstractions;

namespace DistillSharp.Tests.Pipeline;

/// <summary>
/// The end-to-end loopback run of docs/ENDPOINT-TEACHER.md: the cached pretrained LM teacher
/// (~/.cache/distillsharp/lm-teachers, made by `distill run configs/lm-default.yaml`) converted to
/// our INT8 runtime and served by the Serving assembly on a loopback port → collect → filter → SFT
/// → token KD on corpus blocks the server scores (echo, top-5; kd.on: corpus) → the student's held-out perplexity next to the scratch
/// student's (same architecture, initial weights and step count, corpus CE only). Minutes long.
/// </summary>
public sealed class LmEndpointEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task AServedTeachersTracesTeachTheStudent()
    {
        // The cached teacher with the most pretraining steps (a --max-steps smoke teacher is near-uniform and teaches nothing).
        string teachers = Path.Combine(CachePaths.Root, "lm-teachers");
        var (teacherDir, steps) = (Directory.Exists(teachers) ? Directory.GetDirectories(teachers) : [])
            .Where(d => File.Exists(Path.Combine(d, "model.safetensors")) && File.Exists(Path.Combine(d, "pretrain.json")))
            .Select(d => (Dir: d, Steps: System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(d, "pretrain.json"))).RootElement.GetProperty("Steps").GetInt64()))
            .OrderByDescending(x => x.Steps).FirstOrDefault();
        Assert.True(steps >= 100, $"no LM teacher pretrained for >= 100 steps in {teachers}; run `distill pretrain configs/lm-default.yaml --out models/lm-teacher` first");
        output.WriteLine($"teacher {teacherDir} ({steps} pretraining steps)");
        string int8Dir = Path.Combine(CachePaths.Root, "lm-teachers-int8", Path.GetFileName(teacherDir));
        if (!File.Exists(Path.Combine(int8Dir, Int8DecoderFile.RuntimeFile)))
        {
            var (model, tokenizer) = DecoderFolder.Load(teacherDir);
            using (model)
            {
                DecoderToRuntime.Build(model, new Int8DecoderOptions(Threads: 1)).Save(int8Dir);
                tokenizer!.Save(int8Dir);
            }
        }
        var served = RuntimeModels.OpenInt8(int8Dir, threads: 1);
        var server = await ServingServer.StartAsync(served, new ServerOptions(Port: 0), maxBatchSequences: 16);
        string runDir = Path.Combine(Path.GetTempPath(), "ds-lm-endpoint-e2e-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss"));
        try
        {
            string yaml = File.ReadAllText(Path.Combine(Config.RepoPaths.Root(), "configs", "lm-endpoint.yaml"))
                .Replace("endpoint: \"http://127.0.0.1:8080/v1\"", $"endpoint: \"{server.BaseAddress}v1\"")
                .Replace("  # tokenizer: path/to/teacher ", $"  tokenizer: \"{teacherDir}\" ");
            var config = ConfigLoader.Parse<LmRunConfig>(yaml, ["bench.batch=1", "bench.runs=1"], "configs/lm-endpoint.yaml");
            Assert.Equal(teacherDir, config.Teacher.Tokenizer);
            var log = new StringWriter();
            var outcome = LmPipeline.Run(config, new LmRunOptions(runDir, null, null, log, "configs/lm-endpoint.yaml"));
            var report = LmReport.Load(outcome.ReportPath);
            var t = report.Traces!;
            output.WriteLine(log.ToString());
            output.WriteLine($"collection: {t.Collected} requests in {t.Seconds} s = {t.RequestsPerSecond} requests/s, {t.TokensPerSecond} tokens/s; "
                + $"{t.Retries} retries; kept {t.Kept}; removed {string.Join(", ", t.Removed.Select(r => $"{r.Value} {r.Key}"))}; token KD {t.TokenKd}: {t.Vocabulary}");
            double student = report.Models["student"].Perplexity!.Value, scratch = report.Models["scratch"].Perplexity!.Value;
            output.WriteLine($"held-out perplexity: student {student:F2}, scratch {scratch:F2}; run folder {outcome.RunDir}; load {File.ReadAllText("/proc/loadavg").Trim()}");
            Assert.True(t.TokenKd, t.Vocabulary);
            Assert.True(student < scratch, $"student {student:F2} vs scratch {scratch:F2}");
        }
        finally
        {
            await server.DisposeAsync();
            served.Dispose();
        }
    }
}
