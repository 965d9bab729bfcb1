using DistillSharp.Distillation.Divergences;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using DistillSharp.Tests.Models.Decoder;
using static TorchSharp.torch;
using DistillSharp.Distillation;
using DistillSharp.Data;

namespace DistillSharp.Tests.LanguageModels;

public class OnPolicyTests
{
    const int V = 24;

    static List<int[]> Prompts(int n) => Enumerable.Range(0, n).Select(i => new[] { 3 + i % 7, 4 + (i * 5) % 11, 5 + (i * 3) % 13 }).ToList();

    /// <summary>Samples <paramref name="newTokens"/> tokens per prompt from <paramref name="model"/> by full recomputation (no cache), seeded.</summary>
    static ResponseSampler Sampler(CausalLm model, int newTokens) => (prompts, seed) =>
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var generator = new Generator(seed);
        var result = new List<int[]>();
        foreach (var p in prompts)
        {
            var ids = p.Select(x => (long)x).ToList();
            for (int i = 0; i < newTokens; i++)
            {
                var logits = model.Forward(tensor(ids.ToArray(), [1, ids.Count])).Logits[0, -1];
                ids.Add(multinomial(logits.softmax(-1), 1, generator: generator).item<long>());
            }
            result.Add(ids.Skip(p.Length).Select(x => (int)x).ToArray());
        }
        return result;
    };

    [Fact]
    public void BatchesScoreOnlyTheSampledResponseAndRepeatForTheSamePosition()
    {
        var seen = new List<ulong>();
        ResponseSampler fake = (prompts, seed) =>
        {
            seen.Add(seed);
            return prompts.Select((p, i) => new[] { (int)(seed % 5) + 1, i + 1 }).ToList();
        };
        var source = new OnPolicyBatchSource(Prompts(6), fake, batchSize: 4, maxLength: 8, seed: 9);
        var first = source.Next();
        Assert.Equal(new DataPosition(0, 1), source.Position);
        Assert.Equal(2, source.BatchesPerEpoch);
        // Prompt 3 tokens + response 2 → inputs of 4 positions; the targets at positions 2 and 3 are the response.
        Assert.Equal(4, first.Length);
        for (int r = 0; r < first.BatchSize; r++)
            Assert.Equal(new long[] { 0, 0, 1, 1 }, first.LossMask.Skip(r * 4).Take(4).ToArray());
        var last = source.Next();
        Assert.Equal(2, last.BatchSize);                                   // 6 prompts in batches of 4
        Assert.NotEqual(seen[0], seen[1]);                                 // each batch samples with its own seed
        source.Position = new DataPosition(0, 0);
        var again = source.Next();
        Assert.Equal(first.InputIds, again.InputIds);
        Assert.Equal(first.ExampleIds, again.ExampleIds);
        Assert.Equal(seen[0], seen[2]);
    }

    [Fact]
    public void EmptyResponsesAndPromptsThatLeaveNoRoomAreRejected()
    {
        ResponseSampler empty = (prompts, _) => prompts.Select(_ => Array.Empty<int>()).ToList();
        var e = Assert.Throws<InvalidOperationException>(() => new OnPolicyBatchSource(Prompts(2), empty, 2, 8, 1).Next());
        Assert.Contains("empty response", e.Message);
        var d = Assert.Throws<DistillSharpException>(() => new OnPolicyBatchSource(Prompts(2), empty, 2, maxLength: 2, 1));
        Assert.Contains("leaves no response token", d.Message);
    }

    [Fact]
    public void OnPolicyKdBringsTheStudentsOwnSamplesCloserToTheTeacher()
    {
        var teacher = DecoderTestKit.Create(DecoderTestKit.Llama(V), seed: 1);
        teacher.eval();
        var student = DecoderTestKit.Create(DecoderTestKit.Llama(V), seed: 2);
        var source = new OnPolicyBatchSource(Prompts(16), Sampler(student, 5), batchSize: 8, maxLength: 8, seed: 4);
        Func<Tensor, Tensor, Tensor> teacherLogits = (ids, mask) => { using var g = no_grad(); return teacher.Forward(ids, mask).Logits; };
        Func<Tensor, Tensor, Tensor> studentLogits = (ids, mask) => student.Forward(ids, mask).Logits;
        var loss = new TokenKdLoss(new ReverseKl());

        // Reverse KL on fresh student samples (an epoch the trainer never draws), before and after.
        double Divergence()
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            double sum = 0;
            int n = 0;
            foreach (var b in source.Epoch(99))
            {
                var ids = b.InputTensor();
                var mask = b.AttentionTensor();
                sum += loss.Compute(studentLogits(ids, mask), new DenseTeacher(teacherLogits(ids, mask)), b.LossMaskTensor()).item<float>();
                n++;
            }
            return sum / n;
        }
        double before = Divergence();
        var options = new LmTrainerOptions
        {
            Objective = "kd", Steps = 30, Kd = new TokenKdSpec("reverse_kl"), KdWeight = 1.0,
            Optimizer = new OptimizerConfig(Lr: 1e-2, Beta1: 0.9, Beta2: 0.98, WeightDecay: 0.0),
            Schedule = new ScheduleConfig("constant", WarmupSteps: 0), LogEvery = 1, TrimNativeMemoryEvery = 0,
        };
        var result = new LmTrainer(student, studentLogits, source, options, teacherLogits).Run();
        Assert.Equal(30, result.GlobalStep);
        double after = Divergence();
        Assert.True(after < 0.6 * before, $"on-policy reverse KL {before:F4} → {after:F4}");
    }
}
