namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// A run's phases as the user sees them: each phase is logged, timed by the <see cref="RunEta"/>
/// and reported through <see cref="RunOptions.RunProgress"/> at its start and every second.
/// </summary>
sealed class RunPhases : IDisposable
{
    readonly RunOptions _options;
    readonly Timer? _ticker;
    volatile string _detail = "";

    public RunPhases(RunEta eta, RunOptions options)
    {
        Eta = eta;
        _options = options;
        _ticker = options.RunProgress is null ? null : new Timer(_ => Report(), null, 1000, 1000);
    }

    /// <summary>The estimates and measured phase times.</summary>
    public RunEta Eta { get; }

    /// <summary>The running phase's detail (e.g. the distillation stage, step and loss).</summary>
    public string Detail { set => _detail = value; }

    /// <summary>Runs one phase.</summary>
    public void Run(string name, Action action)
    {
        _options.Log.WriteLine($"== {name}");
        Eta.Begin(name);
        _detail = "";
        Report();
        action();
        Eta.End();
    }

    void Report() => _options.RunProgress?.Invoke(new RunProgress(Eta.Current ?? "", _detail, Eta.Elapsed, Eta.Remaining()));

    /// <summary>Stops the once-a-second progress reports.</summary>
    public void Dispose() => _ticker?.Dispose();
}
