using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Quantization;

namespace DistillSharp.Distillation.Encoder;

/// <summary>One distillation stage.</summary>
public sealed record StageConfig
{
    /// <summary>Unique stage name.</summary>
    public required string Name { get; init; }

    /// <summary>Passes over the data; exactly one of Epochs and Steps is set.</summary>
    public int? Epochs { get; init; }

    /// <summary>Optimizer steps; exactly one of Epochs and Steps is set.</summary>
    public int? Steps { get; init; }

    /// <summary>Weighted loss terms (at least one with weight &gt; 0).</summary>
    public required IReadOnlyList<LossSpec> Losses { get; init; }

    /// <summary>Optimizer.</summary>
    public OptimizerConfig Optimizer { get; init; } = new();

    /// <summary>Learning-rate schedule.</summary>
    public ScheduleConfig Schedule { get; init; } = new();

    /// <summary>Micro-batches per optimizer step (effective batch = batch × accumulate).</summary>
    public int Accumulate { get; init; } = 1;

    /// <summary>Max global gradient norm; null = no clipping.</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Which student parameters train in this stage.</summary>
    public TrainLayers TrainLayers { get; init; } = TrainLayers.Everything;

    /// <summary>Batch size of this stage; null = the data section's default.</summary>
    public int? Batch { get; init; }

    /// <summary>Checkpoint every N optimizer steps (0 = only at the stage's end).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Log metrics every N optimizer steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Quantization-aware training in this stage (last stage only), or null for float training.</summary>
    public QatConfig? Qat { get; init; }

    /// <summary>The micro-batch size: the stage's own or <paramref name="defaultBatch"/> (the data section's).</summary>
    public int BatchSize(int defaultBatch) => Batch ?? defaultBatch;

    /// <summary>Samples per optimizer step.</summary>
    public int EffectiveBatch(int defaultBatch) => BatchSize(defaultBatch) * Accumulate;
}
