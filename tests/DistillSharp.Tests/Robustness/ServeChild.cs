using System.Diagnostics;
using System.Text.RegularExpressions;

namespace DistillSharp.Tests.Robustness;

/// <summary>`distill serve` in a child process on a free port: its address, its peak memory, a graceful stop.</summary>
public sealed partial class ServeChild : IDisposable
{
    readonly Process _process;

    [GeneratedRegex(@"on (http://\S+/)")]
    private static partial Regex Address();

    ServeChild(Process process, Uri address)
    {
        _process = process;
        BaseAddress = address;
    }

    /// <summary>Where it listens.</summary>
    public Uri BaseAddress { get; }

    /// <summary>True while the server process runs.</summary>
    public bool Running => !_process.HasExited;

    /// <summary>Highest resident set of the server so far (VmHWM).</summary>
    public long PeakRssBytes
    {
        get
        {
            foreach (string line in File.ReadLines($"/proc/{_process.Id}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            return 0;
        }
    }

    /// <summary>Starts `distill serve --model MODEL --port 0 ARGS…` and waits until it listens.</summary>
    public static ServeChild Start(string model, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])[ChildCli.DistillDll, "serve", "--model", model, "--port", "0", "--threads", "1", .. args]) start.ArgumentList.Add(a);
        start.Environment.Remove("DISTILLSHARP_THREADS");
        var process = Process.Start(start)!;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) errors.Enqueue(l); };
        process.BeginErrorReadLine();
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result is not { } line || Address().Match(line) is not { Success: true } m)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"distill serve did not start: {ready.Result} {string.Join(" | ", errors)}");
        }
        _ = process.StandardOutput.ReadToEndAsync();
        return new ServeChild(process, new Uri(m.Groups[1].Value));
    }

    /// <summary>SIGTERM, then the exit code (null when it did not stop within <paramref name="timeout"/>).</summary>
    public int? Stop(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])!) kill.WaitForExit();
        if (_process.WaitForExit(timeout)) return _process.ExitCode;
        _process.Kill(entireProcessTree: true);
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
