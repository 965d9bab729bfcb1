using System.Diagnostics;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>Where a run is: the phase, its detail, and the time left for the whole run when it can be estimated.</summary>
/// <param name="Phase">Current phase name.</param>
/// <param name="Detail">Phase detail (e.g. the distillation stage, step and loss), or "".</param>
/// <param name="ElapsedSeconds">Seconds since the run started.</param>
/// <param name="EtaSeconds">Estimated seconds until the whole run ends; null until every remaining phase has an estimate.</param>
public sealed record RunProgress(string Phase, string Detail, double ElapsedSeconds, double? EtaSeconds);

/// <summary>
/// The time left for a whole run, phase by phase. Every phase has an estimate that is either
/// measured (a finished phase), derived from a measured phase (the student is evaluated on the
/// same texts as the equally-sized baseline, so its evaluation takes what the baseline's took), or
/// reported live by the phase itself (distillation: seconds per step × steps left). A phase with
/// no estimate yet makes the ETA unknown rather than optimistic. The prediction made when
/// distillation's first steps are timed is kept, so the report can compare it with the actual end.
/// </summary>
public sealed class RunEta
{
    readonly object _gate = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly List<string> _phases;
    readonly Dictionary<string, Func<double?>> _estimates = new();
    readonly Dictionary<string, double> _actual = new();
    string? _current;
    Stopwatch _phaseClock = new();
    double? _liveRemaining;

    /// <summary>Creates a plan over <paramref name="phases"/>, in the order they run.</summary>
    public RunEta(IEnumerable<string> phases) => _phases = phases.ToList();

    /// <summary>The phases in order.</summary>
    public IReadOnlyList<string> Phases => _phases;

    /// <summary>Measured seconds of the finished phases.</summary>
    public IReadOnlyDictionary<string, double> Actual => _actual;

    /// <summary>Seconds since the run started.</summary>
    public double Elapsed => _clock.Elapsed.TotalSeconds;

    /// <summary>The first whole-run ETA made with every phase estimated, as (elapsed, predicted total seconds).</summary>
    public (double At, double Total)? FirstFullPrediction { get; private set; }

    /// <summary>Estimates <paramref name="phase"/> lazily (the function may return null while it cannot say yet).</summary>
    public void Estimate(string phase, Func<double?> seconds)
    {
        Check(phase);
        lock (_gate) _estimates[phase] = seconds;
    }

    /// <summary>Measured duration of a finished phase, or null.</summary>
    public double? Measured(string phase) => _actual.TryGetValue(phase, out double s) ? s : null;

    /// <summary>Starts <paramref name="phase"/>.</summary>
    public void Begin(string phase)
    {
        Check(phase);
        lock (_gate)
        {
            _current = phase;
            _liveRemaining = null;
            _phaseClock = Stopwatch.StartNew();
        }
    }

    /// <summary>The running phase reports how long it still needs (distillation knows its seconds per step).</summary>
    public void ReportRemaining(double seconds)
    {
        lock (_gate) _liveRemaining = Math.Max(0, seconds);
    }

    /// <summary>Ends the running phase and returns its duration in seconds.</summary>
    public double End()
    {
        lock (_gate) return EndLocked();
    }

    double EndLocked()
    {
        if (_current is null) throw new InvalidOperationException("no phase is running");
        double seconds = _phaseClock.Elapsed.TotalSeconds;
        _actual[_current] = seconds;
        _current = null;
        _liveRemaining = null;
        return seconds;
    }

    /// <summary>The running phase, or null between phases.</summary>
    public string? Current
    {
        get { lock (_gate) return _current; }
    }

    /// <summary>Seconds left for the whole run, or null when some phase still to run has no estimate.</summary>
    public double? Remaining()
    {
        lock (_gate) return RemainingLocked();
    }

    double? RemainingLocked()
    {
        double total = 0;
        int from = _current is null ? NextIndex() : _phases.IndexOf(_current);
        for (int i = from; i < _phases.Count; i++)
        {
            string phase = _phases[i];
            if (phase == _current)
            {
                double? left = _liveRemaining ?? EstimateOf(phase) - _phaseClock.Elapsed.TotalSeconds;
                if (left is null) return null;
                total += Math.Max(0, left.Value);
            }
            else
            {
                double? estimate = EstimateOf(phase);
                if (estimate is null) return null;
                total += estimate.Value;
            }
        }
        if (FirstFullPrediction is null && _liveRemaining is not null) FirstFullPrediction = (Elapsed, Elapsed + total);
        return total;
    }

    double? EstimateOf(string phase) =>
        _actual.TryGetValue(phase, out double done) ? done : _estimates.TryGetValue(phase, out var f) ? f() : null;

    int NextIndex()
    {
        int last = -1;
        for (int i = 0; i < _phases.Count; i++) if (_actual.ContainsKey(_phases[i])) last = i;
        return last + 1;
    }

    void Check(string phase)
    {
        if (!_phases.Contains(phase)) throw new ArgumentException($"unknown phase '{phase}'; phases: {string.Join(", ", _phases)}");
    }
}
