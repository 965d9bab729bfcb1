using System.CommandLine;
using DistillSharp.Benchmarks.Encoder;

namespace DistillSharp.Cli;

/// <summary>
/// `distill bench --model M [--runtime torch|int8|onnx|onnx-int8] [--batch N…] [--seq N] [--runs N]
/// [--threads N] [--unfused] [--json]`: latency percentiles, throughput, peak RSS and model size.
/// </summary>
static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "A run folder (its student; int8 → student-int8/, onnx → student.onnx, onnx-int8 → student-int8.onnx), " +
                          "an INT8 encoder folder, a Hugging Face folder, an .onnx file or builtin:NAME (torch and onnx only).",
            Required = true,
        };
        var runtime = new Option<string>("--runtime", "-r")
        {
            Description = "Runtime: " + string.Join(", ", BenchTargets.Runtimes.Keys) + ".",
            DefaultValueFactory = _ => "torch",
        };
        runtime.AcceptOnlyFromAmong([.. BenchTargets.Runtimes.Keys]);
        var batch = new Option<int[]>("--batch", "-b") { Description = "Batch size(s) (default: 1 32).", AllowMultipleArgumentsPerToken = true };
        var seq = new Option<int>("--seq") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 64 };
        var runs = new Option<int>("--runs") { Description = "Timed runs per batch size (after 5 warm-up runs).", DefaultValueFactory = _ => 50 };
        var threads = new Option<int>("--threads") { Description = "Threads (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var unfused = new Option<bool>("--unfused") { Description = "int8 runtime: run bias+GELU and residual+LayerNorm as separate passes." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON, raw samples included." };
        var command = new Command("bench", "Measure latency (p50/p90/p99), throughput, peak memory and model size of a model in a runtime.")
        {
            model, runtime, batch, seq, runs, threads, unfused, json,
        };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            var options = new RuntimeBenchOptions(parse.GetValue(model)!, parse.GetValue(runtime)!, parse.GetValue(batch),
                parse.GetValue(seq), parse.GetValue(runs), parse.GetValue(threads), !parse.GetValue(unfused));
            bool asJson = parse.GetValue(json);
            var report = RuntimeBench.Run(options, asJson ? null : Console.Error);
            if (asJson)
            {
                Console.WriteLine(report.ToJsonText());
                return CommandRunner.Ok;
            }
            Console.WriteLine($"{options.Runtime} {report.ModelPath}: {report.ModelBytes / 1e6:F1} MB, {options.Threads} thread(s); {report.Cpu}; load {report.LoadAverage}");
            Console.WriteLine("batch  seq     p50 ms     p90 ms     p99 ms      seq/s     tokens/s  peak RSS MB");
            foreach (var r in report.Results)
                Console.WriteLine($"{r.Batch,5} {r.SeqLen,4} {r.P50Ms,10:F2} {r.P90Ms,10:F2} {r.P99Ms,10:F2} {r.SequencesPerSecond,10:F1} {r.TokensPerSecond,12:F0} {r.PeakRssBytes / 1e6,12:F0}");
            return CommandRunner.Ok;
        }));
        return command;
    }
}
