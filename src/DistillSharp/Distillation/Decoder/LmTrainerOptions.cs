using DistillSharp.Distillation.Decoder.Losses;

namespace DistillSharp.Distillation.Decoder;

/// <summary>How an <see cref="LmTrainer"/> trains. Every field has a working default.</summary>
public sealed record LmTrainerOptions
{
    /// <summary>The objectives: "pretrain" (CE on packed blocks), "sft" (CE on response tokens), "kd" (token KD, optionally + CE).</summary>
    public static readonly string[] Objectives = ["pretrain", "sft", "kd"];

    /// <summary>One of <see cref="Objectives"/>.</summary>
    public string Objective { get; init; } = "pretrain";
    /// <summary>Optimizer steps of the whole run (the schedule's length).</summary>
    public int Steps { get; init; } = 100;
    /// <summary>Stop cleanly (with a checkpoint) after this many steps in total; null = run all.</summary>
    public long? MaxSteps { get; init; }
    /// <summary>Micro-batches per optimizer step.</summary>
    public int Accumulate { get; init; } = 1;
    /// <summary>AdamW settings (betas, eps, weight decay on matrices only).</summary>
    public OptimizerConfig Optimizer { get; init; } = new(Lr: 3e-4, Beta1: 0.9, Beta2: 0.95, WeightDecay: 0.1);
    /// <summary>Warm-up then cosine/linear/constant.</summary>
    public ScheduleConfig Schedule { get; init; } = new("cosine", WarmupFraction: 0.05);
    /// <summary>Clip the global gradient norm to this; null = no clipping.</summary>
    public double? ClipGradNorm { get; init; } = 1.0;
    /// <summary>The token KD loss of the "kd" objective.</summary>
    public TokenKdSpec Kd { get; init; } = new();
    /// <summary>Weight of the KD term ("kd" objective).</summary>
    public double KdWeight { get; init; } = 1.0;
    /// <summary>Weight of next-token CE in the "kd" objective (pretrain and sft use CE alone).</summary>
    public double CeWeight { get; init; }
    /// <summary>Run folder for metrics.jsonl and checkpoints/; null = neither.</summary>
    public string? RunDir { get; init; }
    /// <summary>Continue from the run folder's latest checkpoint.</summary>
    public bool Resume { get; init; }
    /// <summary>Write a metrics line every N steps (and at the last).</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Checkpoint every N steps (0 = only at the end / at MaxSteps).</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Return freed native memory to the OS every N steps (0 = never).</summary>
    public int TrimNativeMemoryEvery { get; init; } = 50;
    /// <summary>Called after every optimizer step.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>Throws a clear error on the first bad field.</summary>
    public void Validate()
    {
        if (!Objectives.Contains(Objective)) throw new DistillSharpException($"objective '{Objective}' is unknown; known: {string.Join(", ", Objectives)}");
        if (Steps < 1) throw new DistillSharpException($"steps {Steps} must be ≥ 1");
        if (MaxSteps is < 0) throw new DistillSharpException($"max_steps {MaxSteps} must be ≥ 0");
        if (Accumulate < 1) throw new DistillSharpException($"accumulate {Accumulate} must be ≥ 1");
        if (!(Optimizer.Lr > 0)) throw new DistillSharpException($"optimizer.lr {Optimizer.Lr} must be > 0");
        if (!(Optimizer.Beta1 is >= 0 and < 1) || !(Optimizer.Beta2 is >= 0 and < 1))
            throw new DistillSharpException($"optimizer betas ({Optimizer.Beta1}, {Optimizer.Beta2}) must be in [0, 1)");
        if (ClipGradNorm is double c && !(c > 0)) throw new DistillSharpException($"clip_grad_norm {c} must be > 0");
        if (KdWeight < 0 || CeWeight < 0) throw new DistillSharpException($"kd_weight {KdWeight} and ce_weight {CeWeight} must be ≥ 0");
        if (Objective == "kd" && KdWeight + CeWeight == 0) throw new DistillSharpException("objective kd needs kd_weight or ce_weight > 0");
        if (Resume && RunDir is null) throw new DistillSharpException("resume needs a run folder");
        if (LogEvery < 1) throw new DistillSharpException($"log_every {LogEvery} must be ≥ 1");
        if (CheckpointEvery < 0) throw new DistillSharpException($"checkpoint_every {CheckpointEvery} must be ≥ 0");
    }
}
