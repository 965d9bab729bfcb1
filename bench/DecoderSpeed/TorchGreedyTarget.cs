using DistillSharp.Models.Decoder;
using DistillSharp.Benchmarks.Decoder;
using static TorchSharp.torch;

namespace DecoderSpeed;

/// <summary>
/// A TorchSharp fp32 decoder timed like <see cref="Int8DecoderBenchTarget"/>: prefill of equal-length
/// prompts into a <see cref="KvCache"/> (first new token = argmax), then newTokens greedy steps.
/// </summary>
sealed class TorchGreedyTarget(CausalLm model) : IDecoderBenchTarget
{
    public string Runtime => "torchsharp-fp32";

    public (double PrefillSeconds, double DecodeSeconds) Run(IReadOnlyList<int[]> prompts, int newTokens)
    {
        using var noGrad = no_grad();
        using var cache = model.NewCache();
        int b = prompts.Count, t = prompts[0].Length;
        var ids = prompts.SelectMany(p => p.Select(x => (long)x)).ToArray();
        Tensor? next = null;
        double prefill = DecoderSpeedBench.Time(() =>
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(ids, b, t), cache: cache).Logits;                        // (B, T, V)
            next = logits.select(1, t - 1).argmax(-1).view(b, 1).MoveToOuterDisposeScope();            // (B, 1)
        });
        double decode = DecoderSpeedBench.Time(() =>
        {
            for (int i = 0; i < newTokens; i++)
            {
                using var scope = NewDisposeScope();
                var logits = model.Forward(next!, cache: cache).Logits;                                 // (B, 1, V)
                var chosen = logits.select(1, 0).argmax(-1).view(b, 1).MoveToOuterDisposeScope();
                next!.Dispose();
                next = chosen;
            }
        });
        next?.Dispose();
        return (prefill, decode);
    }

    public void Dispose() { }
}
