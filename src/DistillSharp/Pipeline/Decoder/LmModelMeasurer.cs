using DistillSharp.Diagnostics;
using DistillSharp.Data.Decoder;
using DistillSharp.Evaluation.Decoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Config.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Benchmarks.Decoder;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>
/// Measures one decoder for the report: held-out perplexity, continuations of the fixed prompts,
/// prefill/decode speed (<see cref="DecoderSpeedBench"/>) and memory (parameter bytes, file bytes,
/// resident-set growth of loading the folder and running one prefill).
/// </summary>
public static class LmModelMeasurer
{
    /// <summary>Everything but the speed.</summary>
    public static LmModelReport Quality(CausalLm model, DecoderTokenizer tokenizer, IReadOnlyList<LmBatch> heldOut, LmEvalConfig eval, string? folder)
    {
        model.eval();
        var ppl = Perplexity.Evaluate(LmPhaseTrainer.Logits(model), heldOut);
        var samples = new TextGenerator(model, tokenizer).Generate(eval.SamplePrompts,
            new GenerationOptions { MaxNewTokens = eval.MaxNewTokens, Temperature = eval.Temperature, RepetitionPenalty = eval.RepetitionPenalty, Seed = 7 });
        return new LmModelReport
        {
            Params = model.ParameterCount,
            ParamBytes = model.parameters().Sum(p => p.numel() * p.element_size()),
            FileBytes = folder is null ? null : FileBytes(folder),
            Perplexity = Math.Round(ppl.Perplexity, 3),
            HeldoutTokens = ppl.Tokens,
            Samples = eval.SamplePrompts.Zip(samples, (p, s) => new LmSample(p, s.Text)).ToList(),
        };
    }

    /// <summary>Bytes of the weight files (*.safetensors) of a folder.</summary>
    public static long FileBytes(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*.safetensors").Sum(f => f.Length);

    /// <summary>
    /// Resident-set growth from loading <paramref name="folder"/> and running one batch-1 prefill of
    /// <paramref name="promptTokens"/> tokens, after returning freed memory to the OS first. An
    /// approximation: libtorch's allocator and glibc keep some memory between models.
    /// </summary>
    public static long RssDelta(string folder, IReadOnlyList<int> tokens, int promptTokens)
    {
        NativeMemory.Trim();
        long before = NativeMemory.ResidentBytes();
        var (model, _) = DecoderFolder.Load(folder);
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var ids = tensor(tokens.Take(promptTokens).Select(t => (long)t).ToArray(), [1, Math.Min(promptTokens, tokens.Count)]);
            model.Forward(ids);
            return NativeMemory.ResidentBytes() - before;
        }
        finally
        {
            model.Dispose();
        }
    }
}

/// <summary>A TorchSharp decoder timed through <see cref="TextGenerator"/> (greedy, no stop tokens, KV cache).</summary>
public sealed class TorchDecoderBenchTarget(CausalLm model, DecoderTokenizer tokenizer) : IDecoderBenchTarget
{
    /// <inheritdoc/>
    public string Runtime => "torchsharp-fp32";

    /// <inheritdoc/>
    public (double PrefillSeconds, double DecodeSeconds) Run(IReadOnlyList<int[]> prompts, int newTokens)
    {
        // The prefill yields the first new token; newTokens more decode steps follow it.
        var results = new TextGenerator(model, tokenizer).GenerateIds(prompts,
            new GenerationOptions { MaxNewTokens = newTokens + 1, StopTokenIds = [] });
        return (results[0].PrefillTime.TotalSeconds, results[0].DecodeTime.TotalSeconds);
    }

    /// <summary>The model belongs to the caller.</summary>
    public void Dispose() { }
}
