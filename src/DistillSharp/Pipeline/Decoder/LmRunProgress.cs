using System.Diagnostics;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>Progress of an LM run after a step of one of its phases.</summary>
/// <param name="Phase">Phase name (tokenizer, pretrain, seqkd-generate, seqkd, kd, scratch, evaluate, bench).</param>
/// <param name="PhaseIndex">0-based index of the phase in the plan.</param>
/// <param name="PhaseCount">Phases in the plan.</param>
/// <param name="Step">Steps done in this phase.</param>
/// <param name="Steps">Steps this phase will run.</param>
/// <param name="Loss">Last training loss (NaN outside training phases).</param>
/// <param name="Fraction">Estimated fraction of the whole run's work done, in [0, 1].</param>
/// <param name="EtaSeconds">Estimated seconds left for the whole run; NaN until something was measured.</param>
public sealed record LmRunProgress(string Phase, int PhaseIndex, int PhaseCount, long Step, long Steps, double Loss, double Fraction, double EtaSeconds);

/// <summary>One planned phase: its steps and the estimated work (FLOPs) of one step.</summary>
public sealed record LmPhasePlan(string Name, long Steps, double WorkPerStep);

/// <summary>
/// An ETA across phases whose steps cost very different amounts (a teacher step, a student step,
/// a generated token). Each phase's work is estimated up front (≈ 6·params·tokens per training
/// step, 2·params·tokens per forward token); the measured rate — work done per second of phase
/// time so far — turns the remaining work into seconds. The first estimate appears after the first
/// measured step; a phase whose real cost differs from the estimate corrects the rate as it runs.
/// Time between phases (saving, loading) is not measured, so the ETA leans slightly optimistic.
/// </summary>
public sealed class LmEtaTracker
{
    readonly List<LmPhasePlan> _plan;
    readonly double[] _done;
    readonly Func<double> _seconds;
    readonly Action<LmRunProgress>? _sink;
    double _measuredWork, _measuredSeconds, _phaseStartSeconds;
    int _current = -1;

    /// <summary>Tracks <paramref name="plan"/>; <paramref name="sink"/> receives every update; <paramref name="seconds"/> is the clock (tests give their own).</summary>
    public LmEtaTracker(IEnumerable<LmPhasePlan> plan, Action<LmRunProgress>? sink, Func<double>? seconds = null)
    {
        _plan = plan.ToList();
        _done = new double[_plan.Count];
        _sink = sink;
        var clock = Stopwatch.StartNew();
        _seconds = seconds ?? (() => clock.Elapsed.TotalSeconds);
    }

    /// <summary>The phases, in order.</summary>
    public IReadOnlyList<LmPhasePlan> Plan => _plan;

    /// <summary>Starts phase <paramref name="name"/> (must be in the plan); earlier phases count as done.</summary>
    public void Begin(string name)
    {
        int index = _plan.FindIndex(p => p.Name == name);
        if (index < 0) throw new ArgumentException($"phase '{name}' is not in the plan ({string.Join(", ", _plan.Select(p => p.Name))})");
        for (int i = 0; i < index; i++) _done[i] = _plan[i].Steps;
        _current = index;
        _phaseStartSeconds = _seconds();
        Report(0, double.NaN);
    }

    /// <summary>Records that the current phase has finished <paramref name="step"/> of its steps.</summary>
    public void Step(long step, double loss = double.NaN)
    {
        if (_current < 0) throw new InvalidOperationException("Step before Begin");
        var plan = _plan[_current];
        double before = _done[_current];
        _done[_current] = Math.Min(step, plan.Steps);
        double seconds = _seconds();
        _measuredWork += (_done[_current] - before) * plan.WorkPerStep;
        _measuredSeconds += seconds - _phaseStartSeconds;
        _phaseStartSeconds = seconds;
        Report(step, loss);
    }

    /// <summary>Marks the current phase done (a phase cut short by --max-steps counts as done).</summary>
    public void End()
    {
        if (_current < 0) return;
        _plan[_current] = _plan[_current] with { Steps = (long)_done[_current] };
        Report((long)_done[_current], double.NaN);
    }

    /// <summary>Estimated seconds left; NaN until a step with work was measured.</summary>
    public double EtaSeconds
    {
        get
        {
            double remaining = 0;
            for (int i = 0; i < _plan.Count; i++) remaining += (_plan[i].Steps - _done[i]) * _plan[i].WorkPerStep;
            return _measuredWork > 0 ? remaining / (_measuredWork / Math.Max(_measuredSeconds, 1e-9)) : double.NaN;
        }
    }

    /// <summary>Fraction of the planned work done.</summary>
    public double Fraction
    {
        get
        {
            double total = 0, done = 0;
            for (int i = 0; i < _plan.Count; i++)
            {
                total += _plan[i].Steps * _plan[i].WorkPerStep;
                done += _done[i] * _plan[i].WorkPerStep;
            }
            return total > 0 ? Math.Clamp(done / total, 0, 1) : 0;
        }
    }

    void Report(long step, double loss) =>
        _sink?.Invoke(new LmRunProgress(_plan[_current].Name, _current, _plan.Count, step, _plan[_current].Steps, loss, Fraction, EtaSeconds));
}
