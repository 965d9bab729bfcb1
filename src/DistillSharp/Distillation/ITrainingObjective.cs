using TorchSharp.Modules;
using static TorchSharp.torch;
using DistillSharp.Data;

namespace DistillSharp.Distillation;

/// <summary>
/// What the <see cref="Trainer"/> needs from a model family: the model it trains, and per stage the
/// parameters that train and the loss of the next micro-batch. The loop itself (learning rate,
/// accumulation, clipping, non-finite skip, metrics, checkpoints, exact resume, progress) is the
/// trainer's and is the same for every family.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>The module whose weights are trained and checkpointed.</summary>
    nn.Module Model { get; }

    /// <summary>Where the current stage's data source is (saved in checkpoints).</summary>
    DataPosition Position { get; }

    /// <summary>Examples served by a teacher-output cache and computed for it, over the whole run.</summary>
    (long Hits, long Misses) Cache { get; }

    /// <summary>Called once before <see cref="Model"/>'s weights are loaded from a checkpoint at <paramref name="state"/>
    /// (a family may need to change the module's structure first, as QAT does).</summary>
    void BeforeResume(TrainingState state);

    /// <summary>Prepares stage <paramref name="stage"/>, its data continuing at <paramref name="start"/> (null = the stage's start).</summary>
    StagePlan BeginStage(int stage, DataPosition? start);

    /// <summary>Called before each optimizer step with the stage's step index (0-based).</summary>
    void BeforeStep(int stageStep);

    /// <summary>Forward pass and loss of the next micro-batch (inside the trainer's dispose scope).</summary>
    MicroBatchLoss NextMicroBatch(bool wantActivationStats);

    /// <summary>Releases what <see cref="BeginStage"/> made.</summary>
    void EndStage();

    /// <summary>After the last stage ran or the step cap stopped the run; returns the path of an artifact it wrote, or null.</summary>
    string? Finish(bool completed, string? runDir);
}

/// <summary>What a stage trains.</summary>
/// <param name="Parameters">The parameters the optimizer steps (the student's that train, then any loss term's own).</param>
/// <param name="Modules">Loss-term modules whose state is checkpointed with the model, by name.</param>
public sealed record StagePlan(IReadOnlyList<Parameter> Parameters, IReadOnlyDictionary<string, nn.Module> Modules);

/// <summary>One micro-batch's loss.</summary>
/// <param name="Loss">Scalar loss tensor (the weighted sum of the family's terms).</param>
/// <param name="Terms">Each term's value, for metrics ("loss/NAME").</param>
/// <param name="Tokens">Tokens trained on.</param>
/// <param name="ActivationStats">Activation statistics, when asked for and available.</param>
public sealed record MicroBatchLoss(Tensor Loss, IReadOnlyDictionary<string, double> Terms, long Tokens,
    IReadOnlyDictionary<string, double>? ActivationStats = null);
