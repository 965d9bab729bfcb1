// --profile: the pieces of one KD step timed separately (libtorch on CPU is synchronous, so a
// Stopwatch around each call measures it), in the Distiller's order, on the bench's shapes and loss.
using System.Diagnostics;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using static TorchSharp.torch;

static class StepProfile
{
    public static Dictionary<string, double> Run(SentenceEncoder teacher, SentenceEncoder student, IReadOnlyList<string> corpus, int batch, int steps)
    {
        var context = new LossContext(Shape(student), Shape(teacher));
        var terms = new ILossTerm[] { LossRegistry.All["embedding_mse"].Build(context), LossRegistry.All["attention_mse"].Build(context) };
        var parameters = student.Model.parameters().ToList();
        using var optimizer = OptimizerStep.CreateAdamW(parameters, new OptimizerConfig("adamw", 3e-5, 0.9, 0.98, 1e-8, 0.01));
        var times = new Dictionary<string, List<double>>();
        void Time(string name, Action a)
        {
            long t0 = Stopwatch.GetTimestamp();
            a();
            (times.TryGetValue(name, out var l) ? l : times[name] = []).Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        student.Model.train();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var tokens = student.Tokenizer.EncodeBatch(corpus.Skip(i * batch).Take(batch).ToList());
            ModelOutput s = null!, t = null!;
            Tensor loss = null!;
            Time("student_forward", () => s = student.Forward(tokens));
            Time("teacher_forward", () => { using (no_grad()) t = teacher.Forward(tokens); });
            var lossBatch = new LossBatch { AttentionMask = s.AttentionMask };
            Time("losses", () => loss = terms.Select(term => term.Compute(s, t, lossBatch).Loss).Aggregate((a, b) => a + b));
            Time("loss_item", () => loss.item<float>());
            Time("backward", () => loss.backward());
            Time("grad_norm_guard", () => nn.utils.clip_grad_norm_(parameters, float.MaxValue));
            // TorchSharp's AdamW step and the trainers' one-pass step (bit-identical), on alternate steps.
            if (i % 2 == 0) Time("adamw_step_torchsharp", () => optimizer.step());
            else Time("adamw_step_fused", () => FusedAdamW.TryStep(optimizer, get_num_threads()));
            Time("zero_grad", () => optimizer.zero_grad());
        }
        return times.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value.Skip(1).Order().ElementAt((kv.Value.Count - 1) / 2), 1));
    }

    static ModelShape Shape(SentenceEncoder e) =>
        new(e.Model.Config.NumHiddenLayers, e.Model.Config.HiddenSize, e.Model.Config.NumAttentionHeads, e.Tokenizer.MaxLength);
}
