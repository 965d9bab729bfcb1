using System.Diagnostics;

namespace DistillSharp.Tests.Robustness;

/// <summary>What one child `distill` process did.</summary>
/// <param name="ExitCode">Exit code; -1 when it was killed for a bound.</param>
/// <param name="Output">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Seconds">Wall-clock time.</param>
/// <param name="PeakRssBytes">Highest resident set seen (VmHWM, sampled every few milliseconds).</param>
/// <param name="Killed">Why the child was killed ("time" or "memory"), or null.</param>
public sealed record ChildResult(int ExitCode, string Output, string Error, double Seconds, long PeakRssBytes, string? Killed);

/// <summary>
/// Runs the real `distill` (the distill.dll next to the tests) in a child process with a time bound
/// and a memory bound: the child's resident set is sampled from /proc while it runs, and the child
/// is killed when it passes either bound.
/// </summary>
public static class ChildCli
{
    /// <summary>Resident-set bound of one child: libtorch and a tiny model stay far below it.</summary>
    public const long MaxRssBytes = 1_500_000_000;

    /// <summary>Path of distill.dll.</summary>
    public static string DistillDll => Path.Combine(AppContext.BaseDirectory, "distill.dll");

    /// <summary>Runs <paramref name="call"/> and waits at most <paramref name="maxSeconds"/>.</summary>
    public static ChildResult Run(CliCall call, double maxSeconds, string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(DistillDll);
        foreach (string a in call.Args) start.ArgumentList.Add(a);
        // libtorch loads only when a command needs it (DISTILLSHARP_THREADS would load it at start-up);
        // quick JIT for loops shortens start-up, which dominates a child that fails at once.
        start.Environment.Remove("DISTILLSHARP_THREADS");
        start.Environment["DOTNET_TC_QuickJitForLoops"] = "1";
        start.Environment["DOTNET_TieredPGO"] = "0";
        foreach (var (k, v) in call.Env ?? new Dictionary<string, string>()) start.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(start)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        long peak = 0;
        string? killed = null;
        while (!p.WaitForExit(5))
        {
            peak = Math.Max(peak, Rss(p.Id));
            if (peak > MaxRssBytes) killed = "memory";
            else if (clock.Elapsed.TotalSeconds > maxSeconds) killed = "time";
            if (killed is null) continue;
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            break;
        }
        p.WaitForExit();
        return new ChildResult(killed is null ? p.ExitCode : -1, output.Result, error.Result, clock.Elapsed.TotalSeconds, peak, killed);
    }

    // VmHWM of a live process (0 once it has gone).
    static long Rss(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }
}
