using System.Collections.Concurrent;
using System.Text.Json;
using Xunit.Abstractions;

namespace DistillSharp.Tests.Robustness;

/// <summary>
/// The robustness suite: every generated bad input runs through the real CLI in a child process
/// (two at a time) and must get exit code 2 and one error line naming its culprit, with no stack
/// trace, within the time and memory bounds (<see cref="BadInputVerdict"/>). One test per category;
/// set DISTILLSHARP_ROBUSTNESS_LOG to a file to get one JSON line per case (docs/RELIABILITY.md).
/// </summary>
public sealed class RobustnessSuiteTests(RobustnessModels models, ITestOutputHelper output) : IClassFixture<RobustnessModels>
{
    /// <summary>Category names, for the theory.</summary>
    public static TheoryData<string> Categories() => new(BadInputGenerators.All.Keys);

    [Fact]
    public void SuiteHasAtLeastTwoHundredCases()
    {
        var counts = BadInputGenerators.All.ToDictionary(g => g.Key, g => g.Value.Cases(models).Count());
        output.WriteLine(string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(counts.Values.Sum() >= 200, $"only {counts.Values.Sum()} cases");
        var names = BadInputGenerators.All.Values.SelectMany(g => g.Cases(models)).Select(c => c.ToString()).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Categories))]
    public void EveryBadInputGetsOneClearLine(string category)
    {
        var cases = BadInputGenerators.All[category].Cases(models).ToList();
        var results = new ConcurrentDictionary<int, (ChildResult Result, string? Failure)>();
        Parallel.ForEach(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var c = cases[i];
            string dir = Path.Combine(models.Root, "cases", category, $"{i:D3}");
            Directory.CreateDirectory(dir);
            var call = c.Prepare(dir);
            var result = ChildCli.Run(call, c.MaxSeconds, dir);
            results[i] = (result, BadInputVerdict.Check(c, result));
        });
        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var (r, failure) = results[i];
            string line = BadInputVerdict.ErrorLines(r.Error).FirstOrDefault() ?? "";
            output.WriteLine($"{(failure is null ? "ok  " : "FAIL")} {cases[i].Name}: exit {r.ExitCode}, {r.Seconds:F1} s, {r.PeakRssBytes / 1e6:F0} MB  {line}");
            if (failure is not null)
                failures.Add($"{cases[i]}: {failure}\n    stderr: {Tail(r.Error)}");
        }
        Log(category, cases, results);
        output.WriteLine($"{category}: {cases.Count} cases, {failures.Count} failed; slowest {results.Values.Max(x => x.Result.Seconds):F1} s, " +
                         $"largest {results.Values.Max(x => x.Result.PeakRssBytes) / 1e6:F0} MB");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} {category} cases broke the contract:\n" + string.Join("\n", failures));
    }

    static string Tail(string text)
    {
        string t = text.Trim().Replace("\n", "\n            ");
        return t.Length > 1500 ? t[..1500] + " …" : t;
    }

    static void Log(string category, List<BadInputCase> cases, ConcurrentDictionary<int, (ChildResult Result, string? Failure)> results)
    {
        string? path = Environment.GetEnvironmentVariable("DISTILLSHARP_ROBUSTNESS_LOG");
        if (string.IsNullOrEmpty(path)) return;
        lock (typeof(RobustnessSuiteTests))
            File.AppendAllLines(path, Enumerable.Range(0, cases.Count).Select(i => JsonSerializer.Serialize(new
            {
                category, name = cases[i].Name, exit = results[i].Result.ExitCode, expected = cases[i].ExitCode,
                seconds = Math.Round(results[i].Result.Seconds, 2), peak_rss_mb = Math.Round(results[i].Result.PeakRssBytes / 1e6),
                failure = results[i].Failure, error = BadInputVerdict.ErrorLines(results[i].Result.Error).FirstOrDefault(),
            })));
    }
}
