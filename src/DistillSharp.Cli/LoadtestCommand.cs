using System.CommandLine;
using System.Globalization;
using DistillSharp.Serving.LoadTesting;

namespace DistillSharp.Cli;

/// <summary>
/// `distill loadtest --url U --rate R | --sweep R1,R2,… --duration S [--concurrency C] [--texts FILE]
/// [--json] [--plot PNG]`: open-loop constant-rate load on a local endpoint, latency percentiles
/// from the scheduled send times, achieved QPS and errors by status.
/// </summary>
static class LoadtestCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url", "-u") { Description = "Endpoint URL on this machine, e.g. http://127.0.0.1:8080/v1/embeddings.", Required = true };
        var rate = new Option<double?>("--rate") { Description = "Requests per second." };
        var sweep = new Option<string?>("--sweep") { Description = "Comma-separated rates, run one after another (e.g. 50,100,200,400)." };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds of arrivals per rate.", DefaultValueFactory = _ => 10 };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Most requests in flight.", DefaultValueFactory = _ => 256 };
        var texts = new Option<string?>("--texts") { Description = "File with one text per line, sent in turn (default: built-in sentences)." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds before a request counts as a timeout.", DefaultValueFactory = _ => 30 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of unrecorded load at the first rate first.", DefaultValueFactory = _ => 0 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of completion requests.", DefaultValueFactory = _ => 16 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var plot = new Option<string?>("--plot") { Description = "Write the latency–throughput curve to this PNG." };
        var command = new Command("loadtest", "Open-loop load test of a serving endpoint: P50/P90/P99/max latency, achieved QPS, errors.")
        {
            url, rate, sweep, duration, concurrency, texts, timeout, warmup, maxTokens, json, plot,
        };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            if (parse.GetValue(rate) is not null == parse.GetValue(sweep) is not null) throw new DistillSharpException("give exactly one of --rate R and --sweep R1,R2,…");
            var rates = parse.GetValue(rate) is { } r ? [r] : Rates(parse.GetValue(sweep)!);
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var uri)) throw new DistillSharpException($"--url '{parse.GetValue(url)}' is not an absolute URL");
            IReadOnlyList<string>? lines = null;
            if (parse.GetValue(texts) is { } file)
            {
                if (!File.Exists(file)) throw new DistillSharpException($"--texts {file}: file not found");
                lines = File.ReadAllLines(file).Where(l => l.Trim().Length > 0).ToList();
            }
            var options = new LoadTestOptions(uri, rates, parse.GetValue(duration), parse.GetValue(concurrency), lines, parse.GetValue(timeout),
                parse.GetValue(warmup), parse.GetValue(maxTokens));
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new DistillSharpException(e.Message);
            }
            var report = LoadTest.RunAsync(options, Console.Error).GetAwaiter().GetResult();
            if (parse.GetValue(plot) is { } png)
            {
                LoadTestPlot.Write(report, png);
                Console.Error.WriteLine($"plot: {png}");
            }
            if (parse.GetValue(json)) Console.WriteLine(LoadTest.ToJson(report));
            else
            {
                Console.WriteLine($"{report.Url}, concurrency {report.Concurrency}, load {report.LoadAverage}");
                Console.WriteLine("  rate/s    ok/sent        qps     p50 ms     p90 ms     p99 ms     max ms  errors");
                foreach (var x in report.Runs)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{x.TargetRate,8:F1} {x.Ok,6}/{x.Sent,-6} {x.AchievedQps,8:F1} {x.P50Ms,10:F2} {x.P90Ms,10:F2} {x.P99Ms,10:F2} {x.MaxMs,10:F2}  {Errors(x)}"));
            }
            return CommandRunner.Ok;
        }));
        return command;
    }

    static string Errors(LoadTestResult r) => r.Errors.Count == 0 ? "-" : string.Join(" ", r.Errors.Select(e => $"{e.Key}×{e.Value}"));

    static double[] Rates(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t =>
        double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new DistillSharpException($"--sweep: '{t}' is not a number")).ToArray();
}
