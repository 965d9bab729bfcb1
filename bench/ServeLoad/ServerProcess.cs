using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ServeLoad;

/// <summary>A `distill serve` child process on a free loopback port, stopped (killed) on dispose.</summary>
sealed class ServerProcess : IDisposable
{
    readonly Process _process;

    ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public bool Alive => !_process.HasExited;
    public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path.TrimStart('/')}");

    /// <summary>Starts <paramref name="distill"/> serve with <paramref name="args"/> and waits until /health answers.</summary>
    public static async Task<ServerProcess> StartAsync(string distill, IEnumerable<string> args)
    {
        int port = FreePort();
        var info = new ProcessStartInfo(distill) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "serve", "--port", port.ToString() }.Concat(args)) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {distill}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  [serve] {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  [serve] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, port);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (process.HasExited) throw new InvalidOperationException($"distill serve exited with {process.ExitCode}");
            try
            {
                if ((await client.GetAsync(server.Url("/health"))).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        server.Dispose();
        throw new TimeoutException("distill serve did not answer /health within 3 minutes");
    }

    /// <summary>Resident set size of the server now (VmRSS), bytes.</summary>
    public long RssBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
