namespace DistillSharp.Distillation;

/// <summary>One stage of a <see cref="Trainer"/> run: how long, how the optimizer steps, how often to log and checkpoint.</summary>
/// <param name="Name">The stage's name (metrics "stage", messages).</param>
/// <param name="Steps">Optimizer steps (the schedule's length).</param>
/// <param name="Accumulate">Micro-batches per optimizer step.</param>
/// <param name="Optimizer">AdamW settings.</param>
/// <param name="Schedule">Warm-up then decay.</param>
/// <param name="ClipGradNorm">Clip the global gradient norm to this; null = no clipping.</param>
/// <param name="LogEvery">Write a metrics line every N steps (and at the last).</param>
/// <param name="CheckpointEvery">Checkpoint every N steps (0 = only at the stage's end or the step cap).</param>
/// <param name="LrKey">Where the learning rate is set, for the advice when steps keep failing ("stages[1].optimizer.lr").</param>
public sealed record TrainingStage(string Name, int Steps, int Accumulate, OptimizerConfig Optimizer, ScheduleConfig Schedule,
    double? ClipGradNorm, int LogEvery, int CheckpointEvery, string LrKey);

/// <summary>How a <see cref="Trainer"/> runs, besides its stages.</summary>
/// <param name="RunDir">metrics.jsonl and checkpoints/ go here; null = neither (no resume).</param>
/// <param name="MaxSteps">Stop cleanly after this many optimizer steps in total (a checkpoint is written).</param>
/// <param name="Resume">Continue from the run folder's latest checkpoint.</param>
/// <param name="ActivationStatsEvery">Ask the objective for activation statistics every N steps (0 = never).</param>
/// <param name="Progress">Called after every optimizer step.</param>
/// <param name="TrimNativeMemoryEvery">Return freed native memory to the OS every N steps (0 = never); without it glibc
/// lets the resident set grow although no tensor leaks.</param>
public sealed record TrainerOptions(string? RunDir, long? MaxSteps = null, bool Resume = false, int ActivationStatsEvery = 0,
    Action<TrainingProgress>? Progress = null, int TrimNativeMemoryEvery = 50);

/// <summary>Progress after a step: enough for a progress bar with an ETA across all stages.</summary>
public sealed record TrainingProgress(string Stage, int StageIndex, int StageStep, int StageSteps, long GlobalStep, long TotalSteps,
    double Loss, double SecondsPerStep, double EtaSeconds);

/// <summary>What a run did.</summary>
/// <param name="GlobalStep">Optimizer steps done in total (including those before a resume).</param>
/// <param name="Completed">True when every stage ran to its end.</param>
/// <param name="SkippedSteps">Steps skipped for a non-finite loss or gradient.</param>
/// <param name="Seconds">Wall time of this call.</param>
/// <param name="LastLoss">The last step's loss.</param>
/// <param name="Tokens">Tokens trained on in this call.</param>
/// <param name="CacheHits">Examples served from a teacher-output cache.</param>
/// <param name="CacheMisses">Examples the teacher computed for the cache.</param>
/// <param name="Artifact">A file the objective wrote at the end (a completed QAT stage's quantized model), or null.</param>
public sealed record TrainingResult(long GlobalStep, bool Completed, int SkippedSteps, double Seconds, double LastLoss, long Tokens,
    long CacheHits, long CacheMisses, string? Artifact = null);
