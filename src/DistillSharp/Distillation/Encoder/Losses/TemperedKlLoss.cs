using DistillSharp.Models;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// Base of the two KL directions on tempered logits (p = softmax(z / T)), scaled by T² and reduced
/// over the batch or the real tokens. <see cref="KlDivergenceLoss"/> is KL(p_t ‖ p_s),
/// <see cref="ReverseKlLoss"/> KL(p_s ‖ p_t).
/// </summary>
public abstract class TemperedKlLoss : LossTerm
{
    readonly bool _studentFirst;

    /// <summary>Creates the term; <paramref name="studentFirst"/> selects KL(student ‖ teacher).</summary>
    protected TemperedKlLoss(double temperature, string name, bool studentFirst) : base(name)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        Temperature = temperature;
        _studentFirst = studentFirst;
    }

    /// <summary>Softmax temperature T.</summary>
    public double Temperature { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Logits = true };

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var (s, t) = LogitLosses.Pair(student, teacher, Name);
        var logPt = LogitLosses.LogSoftmax(t, Temperature);
        var logPs = LogitLosses.LogSoftmax(s, Temperature);
        var kl = _studentFirst ? LogitLosses.Kl(logPs, logPt) : LogitLosses.Kl(logPt, logPs);
        return Result(LogitLosses.Reduce(kl, batch) * (Temperature * Temperature));
    }
}
