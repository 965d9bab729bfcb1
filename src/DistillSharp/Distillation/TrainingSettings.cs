namespace DistillSharp.Distillation;

/// <summary>AdamW settings.</summary>
public sealed record OptimizerConfig(string Name = "adamw", double Lr = 1e-4, double Beta1 = 0.9, double Beta2 = 0.999,
    double Eps = 1e-8, double WeightDecay = 0.01)
{
    /// <summary>Known optimizers.</summary>
    public static readonly string[] Names = ["adamw"];
}

/// <summary>Learning-rate schedule: linear warm-up, then cosine/linear decay to 0 or constant.</summary>
/// <param name="Name">"cosine", "linear" or "constant".</param>
/// <param name="WarmupFraction">Warm-up as a fraction of the stage's steps (used when WarmupSteps is null).</param>
/// <param name="WarmupSteps">Warm-up in optimizer steps.</param>
public sealed record ScheduleConfig(string Name = "cosine", double WarmupFraction = 0, int? WarmupSteps = null)
{
    /// <summary>Known schedules.</summary>
    public static readonly string[] Names = ["cosine", "linear", "constant"];

    /// <summary>Warm-up steps for a stage of <paramref name="totalSteps"/> steps.</summary>
    public int Warmup(int totalSteps) => WarmupSteps ?? (int)Math.Round(WarmupFraction * totalSteps);
}
