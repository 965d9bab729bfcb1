using DistillSharp.Config.Decoder;
namespace DistillSharp.Pipeline.Decoder;

/// <summary>
/// The phases of an LM run with their step counts under --max-steps and an estimate of each step's
/// work in FLOPs (training ≈ 6·params·tokens, plus 2·teacher params·tokens for the teacher forward
/// of token KD; generation and evaluation ≈ 2·params·tokens, a decoded token counted 16× a prefill
/// token because one-token steps are dominated by per-op overhead), for <see cref="LmEtaTracker"/>.
/// </summary>
public static class LmRunPlan
{
    /// <summary>Phase names, in run order.</summary>
    public const string Pretrain = "pretrain", Generate = "seqkd-generate", SeqKd = "seqkd", KdScore = "kd-score", Kd = "kd", Scratch = "scratch",
        Evaluate = "evaluate", Bench = "bench";

    /// <summary>True when an endpoint teacher scores the corpus blocks of the kd phase (kd.on: corpus).</summary>
    public static bool ScoresCorpus(LmRunConfig c) => c.Teacher.Endpoint is not null && c.Kd?.On == KdData.Corpus;

    /// <summary>Batches the kd phase trains on under the cap (steps × accumulate).</summary>
    public static long KdBatches(TokenKdConfig k, long? maxSteps) => LmPhaseTrainer.CappedSteps(k.Train, maxSteps) * k.Train.Accumulate;

    /// <summary>Optimizer steps of the student's teacher-taught phases under the cap (the scratch student runs as many).</summary>
    public static long StudentSteps(LmRunConfig c, long? maxSteps) =>
        (c.SeqKd is { } s ? LmPhaseTrainer.CappedSteps(s.Train, maxSteps) : 0) + (c.Kd is { } k ? LmPhaseTrainer.CappedSteps(k.Train, maxSteps) : 0);

    /// <summary>SeqKD prompts under the cap: --max-steps N also caps generation at N batches.</summary>
    public static int SeqKdPrompts(SeqKdConfig s, long? maxSteps) =>
        maxSteps is long cap ? (int)Math.Min(s.Prompts, cap * s.GenerateBatch) : s.Prompts;

    /// <summary>The scratch student's training settings: the KD phase's (else seqkd's) optimizer, for the students' total steps.</summary>
    public static LmTrainConfig ScratchTrain(LmRunConfig c, long? maxSteps)
    {
        var basis = c.Kd?.Train ?? c.SeqKd!.Train;
        int steps = (int)Math.Max(1, StudentSteps(c, maxSteps));
        return basis with { Steps = steps, Warmup = Math.Min(basis.Warmup, steps) };
    }

    /// <summary>The plan; <paramref name="pretrain"/> false when the teacher is loaded (source or cache).</summary>
    public static List<LmPhasePlan> Build(LmRunConfig c, long? maxSteps, bool pretrain, long teacherParams, long studentParams)
    {
        var d = c.Data;
        var plan = new List<LmPhasePlan>();
        int models = c.Scratch ? 3 : 2;
        if (pretrain && c.Teacher.Pretrain is { } p)
            plan.Add(new(Pretrain, LmPhaseTrainer.CappedSteps(p.Train, maxSteps), 6.0 * teacherParams * p.Train.BatchSize(d) * p.Train.Accumulate * d.Block));
        if (c.SeqKd is { } s)
        {
            if (c.Teacher.Endpoint is null)
            {
                long batches = (SeqKdPrompts(s, maxSteps) + s.GenerateBatch - 1) / s.GenerateBatch;
                plan.Add(new(Generate, batches, 2.0 * teacherParams * s.GenerateBatch * (s.PromptTokens + s.NewTokens)));
            }
            else plan.Add(new(Generate, SeqKdPrompts(s, maxSteps), 2.0 * teacherParams * (s.PromptTokens + s.NewTokens)));  // a step = one request
            plan.Add(new(SeqKd, LmPhaseTrainer.CappedSteps(s.Train, maxSteps),
                6.0 * studentParams * s.Train.BatchSize(d) * s.Train.Accumulate * (s.PromptTokens + s.NewTokens)));
        }
        if (c.Kd is { } k)
        {
            if (ScoresCorpus(c))  // a step = one block scored (one request)
                plan.Add(new(KdScore, KdBatches(k, maxSteps) * k.Train.BatchSize(d), 2.0 * teacherParams * (d.Block + 1)));
            double tokens = (double)k.Train.BatchSize(d) * k.Train.Accumulate * d.Block;
            plan.Add(new(Kd, LmPhaseTrainer.CappedSteps(k.Train, maxSteps), (6.0 * studentParams + 2.0 * teacherParams) * tokens));
        }
        if (c.Scratch)
        {
            var t = ScratchTrain(c, maxSteps);
            plan.Add(new(Scratch, t.Steps, 6.0 * studentParams * t.BatchSize(d) * t.Accumulate * d.Block));
        }
        long evalTokens = (c.Eval.MaxBlocks > 0 ? c.Eval.MaxBlocks : 64) * (long)d.Block + c.Eval.SamplePrompts.Count * c.Eval.MaxNewTokens * 16L;
        plan.Add(new(Evaluate, models, 2.0 * (teacherParams + studentParams) / 2 * evalTokens));
        long benchTokens = c.Bench.Batches.Sum(b => (long)b * (c.Bench.PromptTokens + c.Bench.NewTokens * 16L)) * (c.Bench.Runs + 1);
        plan.Add(new(Bench, models, 2.0 * (teacherParams + studentParams) / 2 * benchTokens));
        return plan;
    }
}
