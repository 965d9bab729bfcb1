// Part (a): one training step of a 3 × 384 student (12 heads, FFN 1536) at batch 64 × 128 with
// hidden_mse + minilm_attention against a 6 × 384 teacher of random weights, with or without
// activation checkpointing. Runs in its own process (VmHWM is per process) and prints one JSON line.
using System.Diagnostics;
using DistillSharp.Diagnostics;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using static TorchSharp.torch;
using DistillSharp.Runtime.Encoder;

static class CheckpointStep
{
    public const int Batch = 64, Tokens = 128;

    public static object Run(bool checkpoint, int steps)
    {
        manual_seed(1);
        var teacher = new BertEncoderModel(new BertConfig { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 });
        teacher.eval();
        var student = StudentBuilder.Build(teacher, new StudentSpec(3), seed: 2);
        student.train();
        student.CheckpointActivations = checkpoint;

        var ids = randint(1000, 30000, [Batch, Tokens], dtype: ScalarType.Int64);
        var mask = ones(Batch, Tokens, ScalarType.Int64);
        // The teacher's outputs are computed once, as a warm teacher cache would serve them.
        ModelOutput teacherOut;
        using (no_grad()) teacherOut = teacher.Forward(ids, mask);

        var context = new LossContext(new ModelShape(3, 384, 12, Tokens), new ModelShape(6, 384, 12, Tokens));
        var terms = new[] { LossRegistry.Get("hidden_mse").Build(context), LossRegistry.Get("minilm_attention").Build(context) };
        var parameters = student.parameters().Concat(terms.SelectMany(t => t.Parameters())).ToList();
        var optimizer = optim.AdamW(parameters, 1e-4);

        NativeMemory.Trim();
        long before = NativeMemory.ResidentBytes(), setupPeak = NativeMemory.PeakResidentBytes();
        var stepMs = new List<double>();
        double trimMs = 0;
        long rssBeforeTrim = 0, rssAfterTrim = 0, afterForward = 0;
        for (int step = 0; step < steps; step++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var studentOut = student.Forward(ids, mask);
                var batch = new LossBatch { AttentionMask = mask };
                Tensor loss = Term(0) + Term(1);
                Tensor Term(int i) // as the Distiller does: each term's temporaries freed once it is computed
                {
                    using var termScope = NewDisposeScope();
                    return terms[i].Compute(studentOut, teacherOut, batch).Loss.MoveToOuterDisposeScope();
                }
                afterForward = NativeMemory.ResidentBytes();
                loss.backward();
                optimizer.step();
                optimizer.zero_grad();
            }
            stepMs.Add(clock.Elapsed.TotalMilliseconds);
            rssBeforeTrim = NativeMemory.ResidentBytes();
            var trimClock = Stopwatch.StartNew();
            NativeMemory.Trim();
            trimMs = Math.Max(trimMs, trimClock.Elapsed.TotalMilliseconds);
            rssAfterTrim = NativeMemory.ResidentBytes();
        }
        long peak = NativeMemory.PeakResidentBytes();
        var timed = stepMs.Skip(1).OrderBy(x => x).ToList(); // the first step allocates AdamW state
        return new
        {
            variant = checkpoint ? "checkpoint" : "plain", steps,
            rss_before_steps_mb = Mb(before), setup_peak_mb = Mb(setupPeak), peak_rss_mb = Mb(peak),
            step_peak_over_baseline_mb = Mb(peak - before), rss_after_forward_mb = Mb(afterForward),
            median_step_ms = Math.Round(timed[timed.Count / 2], 0),
            step_ms = stepMs.Select(x => Math.Round(x, 0)).ToArray(),
            trim_max_ms = Math.Round(trimMs, 2), rss_before_last_trim_mb = Mb(rssBeforeTrim), rss_after_last_trim_mb = Mb(rssAfterTrim),
        };
    }

    static double Mb(long bytes) => Math.Round(bytes / 1e6, 1);
}
