using DistillSharp.Distillation.Decoder;
using DistillSharp.Evaluation.Decoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Config.Decoder;
using DistillSharp.Distillation;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>
/// Builds the run's decoders from a <see cref="DecoderShape"/> and runs one training phase of them
/// through <see cref="LmTrainer"/> with the phase's <see cref="LmTrainConfig"/> and the run's
/// --max-steps cap, reporting each step to the run's <see cref="LmEtaTracker"/>.
/// </summary>
public static class LmPhaseTrainer
{
    /// <summary>The HF config of a shape for a tokenizer; positions cover <paramref name="maxPositions"/>.</summary>
    public static DecoderConfig ConfigFor(DecoderShape shape, DecoderTokenizer tokenizer, int maxPositions)
    {
        var config = new DecoderConfig
        {
            ModelType = shape.Arch,
            VocabSize = tokenizer.VocabSize,
            HiddenSize = shape.Hidden,
            NumLayers = shape.Layers,
            NumHeads = shape.Heads,
            NumKvHeads = shape.KvHeads,
            HeadDim = shape.Hidden / shape.Heads,
            IntermediateSize = shape.Ffn,
            MaxPositions = maxPositions,
            RopeTheta = shape.RopeTheta,
            TieWordEmbeddings = shape.TieEmbeddings,
            HiddenAct = shape.Arch == "gpt2" ? "gelu_new" : "silu",
            NormEps = shape.Arch == "gpt2" ? 1e-5 : 1e-6,
            BosTokenId = tokenizer.BosId,
            EosTokenIds = tokenizer.EosId is int eos ? [eos] : [],
            PadTokenId = tokenizer.PadId,
        };
        config.Validate("model");
        return config;
    }

    /// <summary>A freshly initialised model; the same seed gives the same weights (the KD and scratch students start equal).</summary>
    public static CausalLm Create(DecoderConfig config, int seed)
    {
        manual_seed(seed);
        return DecoderModels.Create(config);
    }

    /// <summary>(ids, attention mask) → logits (B, T, V), the form <see cref="LmTrainer"/> and <see cref="Perplexity"/> take.</summary>
    public static Func<Tensor, Tensor, Tensor> Logits(CausalLm model) => (ids, mask) => model.Forward(ids, mask).Logits;

    /// <summary>The trainer options of a phase.</summary>
    public static LmTrainerOptions Options(string objective, LmTrainConfig train, long? maxSteps, string phaseDir, LmEtaTracker tracker) => new()
    {
        Objective = objective,
        Steps = train.Steps,
        MaxSteps = maxSteps,
        Accumulate = train.Accumulate,
        Optimizer = new OptimizerConfig(Lr: train.Lr, Beta1: 0.9, Beta2: 0.95, WeightDecay: train.WeightDecay),
        Schedule = new ScheduleConfig("cosine", WarmupSteps: train.Warmup),
        ClipGradNorm = train.ClipGradNorm,
        RunDir = phaseDir,
        Resume = DistillSharp.Distillation.DistillCheckpoint.Latest(phaseDir) != null,
        LogEvery = train.LogEvery,
        Progress = p => tracker.Step(p.GlobalStep, p.Loss),
    };

    /// <summary>Steps a phase will run under the cap.</summary>
    public static long CappedSteps(LmTrainConfig train, long? maxSteps) => maxSteps is long cap ? Math.Min(cap, train.Steps) : train.Steps;

    /// <summary>Deletes a finished phase's checkpoints (the final model is saved as an HF folder; metrics.jsonl stays).</summary>
    public static void DropCheckpoints(string phaseDir)
    {
        string dir = Path.Combine(phaseDir, "checkpoints");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

}
