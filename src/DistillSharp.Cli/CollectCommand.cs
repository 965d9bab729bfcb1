using System.CommandLine;
using DistillSharp.Config;
using DistillSharp.Config.Decoder;
using DistillSharp.Pipeline.Decoder;

namespace DistillSharp.Cli;

/// <summary>`distill collect CONFIG --out DIR [--max-steps N] [--set k=v]…`: an endpoint teacher's traces for a kind: lm config, resumable.</summary>
public static class CollectCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "kind: lm YAML config with teacher.endpoint and a seqkd: section." };
        var outDir = new Option<string>("--out", "-o") { Description = "Folder for traces.jsonl (resumable: run again into it to finish), collect.json and tokenizer/.", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a config value: path=value (e.g. seqkd.collect.concurrency=8)." };
        var maxSteps = new Option<long?>("--max-steps") { Description = "Cap the prompts at N × seqkd.generate_batch, as distill run --max-steps does." };
        var command = new Command("collect", "Send the config's prompts to its endpoint teacher and store the answers (traces.jsonl; never asks twice).") { config, outDir, set, maxSteps };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string path = parse.GetValue(config)!;
            var cfg = ConfigLoader.Load<LmRunConfig>(path, parse.GetValue(set) ?? []);
            long? cap = parse.GetValue(maxSteps) is long m && m <= 0 ? throw new DistillSharpException($"--max-steps must be > 0, got {m}") : parse.GetValue(maxSteps);
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            DateTime last = DateTime.MinValue;
            LmCollectOutcome outcome;
            try
            {
                outcome = LmPipeline.Collect(cfg, parse.GetValue(outDir)!, new LmRunOptions(null, cap, null, Console.Out, path), (done, total) =>
            {
                if (DateTime.UtcNow - last < TimeSpan.FromSeconds(10) && done < total) return;
                last = DateTime.UtcNow;
                Console.WriteLine($"collect: {done}/{total}");
            }, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("collect: interrupted; every finished answer is stored — run the same command again to continue");
                return CommandRunner.Failed;
            }
            var r = outcome.Result;
            Console.WriteLine($"{outcome.TraceFile}: {outcome.Stored} traces ({r.Collected} new, {r.Cached} reused, {r.Failed} failed); "
                + $"{r.RequestsPerSecond:F2} requests/s, {r.TokensPerSecond:F1} tokens/s");
            return r.Failed > 0 ? CommandRunner.Failed : CommandRunner.Ok;
        }));
        return command;
    }
}
