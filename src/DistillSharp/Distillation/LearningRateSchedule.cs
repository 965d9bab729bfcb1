namespace DistillSharp.Distillation;

/// <summary>
/// Learning rate as a pure function of the optimizer step, so that a resumed run needs only the
/// step to continue the schedule: linear warm-up from 0 to the base rate over W steps, then
/// cosine (½(1 + cos πp)), linear (1 − p) or constant, where p is the progress after warm-up.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The rate for optimizer step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static double At(ScheduleConfig schedule, double baseLr, int step, int totalSteps)
    {
        int warmup = Math.Min(schedule.Warmup(totalSteps), totalSteps);
        if (step < warmup) return baseLr * (step + 1) / warmup;
        int decaySteps = Math.Max(1, totalSteps - warmup);
        double progress = Math.Clamp((step - warmup) / (double)decaySteps, 0, 1);
        return schedule.Name switch
        {
            "cosine" => baseLr * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            "linear" => baseLr * (1 - progress),
            "constant" => baseLr,
            _ => throw new DistillSharpException($"unknown schedule '{schedule.Name}'; known: {string.Join(", ", ScheduleConfig.Names)}"),
        };
    }
}
