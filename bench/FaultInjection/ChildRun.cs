using System.Diagnostics;
using System.Text;

namespace DistillSharp.FaultInjection;

/// <summary>One `distill` child process: started with its own cache root, its output kept, killable with SIGKILL.</summary>
sealed class ChildRun : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();

    public ChildRun(IReadOnlyList<string> args, string cacheRoot)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "distill.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DISTILLSHARP_THREADS"] = "1";
        start.Environment["DISTILLSHARP_CACHE"] = cacheRoot;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>Seconds since the start.</summary>
    public double Seconds => _clock.Elapsed.TotalSeconds;

    /// <summary>True while the child runs.</summary>
    public bool Running => !_process.HasExited;

    /// <summary>Standard output and error, interleaved.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>SIGKILL (no chance to clean up); true when the child was still running.</summary>
    public bool Kill()
    {
        try
        {
            if (_process.HasExited) return false;
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Waits for the end; the exit code, or null after <paramref name="timeout"/> (the child is then killed).</summary>
    public int? Wait(TimeSpan timeout)
    {
        if (_process.WaitForExit(timeout))
        {
            _process.WaitForExit();
            return _process.ExitCode;
        }
        Kill();
        return null;
    }

    public void Dispose() => _process.Dispose();
}
