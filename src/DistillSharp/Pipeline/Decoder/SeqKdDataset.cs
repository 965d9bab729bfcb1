using System.Diagnostics;
using DistillSharp.Runtime;
using DistillSharp.Data.Decoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Config.Decoder;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>
/// Sequence-level KD data (Kim &amp; Rush 2016): prompts of <see cref="SeqKdConfig.PromptTokens"/>
/// tokens cut from the training split at seeded random positions, each continued by the teacher for
/// <see cref="SeqKdConfig.NewTokens"/> tokens (temperature/top-k sampling, KV cache, in batches);
/// the pairs become <see cref="SftExample"/>s, written as JSONL, on which the student is fine-tuned
/// with the loss on the response tokens only.
/// </summary>
public static class SeqKdDataset
{
    /// <summary>
    /// <paramref name="count"/> prompts: windows of the concatenated training documents starting at
    /// positions drawn by <see cref="SplitMix64"/> from <paramref name="seed"/> (distinct when the text allows).
    /// </summary>
    public static IReadOnlyList<int[]> Prompts(IReadOnlyList<int[]> documents, int count, int length, int seed)
    {
        var stream = documents.SelectMany(d => d).ToArray();
        if (stream.Length < length)
            throw new DistillSharpException($"seqkd.prompt_tokens = {length} is longer than the whole training text ({stream.Length} tokens)");
        var rng = new SplitMix64((ulong)seed ^ 0x5EC0D15EUL);
        int windows = stream.Length - length + 1;
        var starts = new List<int>();
        var seen = new HashSet<int>();
        while (starts.Count < count)
        {
            int start = rng.NextInt(windows);
            if (seen.Add(start) || seen.Count >= windows) starts.Add(start);
        }
        return starts.Select(s => stream.AsSpan(s, length).ToArray()).ToList();
    }

    /// <summary>
    /// The teacher's continuations of <paramref name="prompts"/>, in batches of
    /// <see cref="SeqKdConfig.GenerateBatch"/>; <paramref name="onBatch"/> gets the number of prompts done.
    /// An EOS the teacher emits stays at the end of the response (the student learns to stop).
    /// </summary>
    public static (List<SftExample> Examples, double Seconds) Generate(CausalLm teacher, DecoderTokenizer tokenizer, IReadOnlyList<int[]> prompts,
        SeqKdConfig config, int seed, Action<int>? onBatch = null)
    {
        var generator = new TextGenerator(teacher, tokenizer);
        var examples = new List<SftExample>(prompts.Count);
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < prompts.Count; start += config.GenerateBatch)
        {
            var batch = prompts.Skip(start).Take(config.GenerateBatch).ToList();
            var options = new GenerationOptions
            {
                MaxNewTokens = config.NewTokens,
                Temperature = config.Temperature,
                TopK = config.TopK,
                Seed = (ulong)(seed * 1_000_003L + start),
            };
            var results = generator.GenerateIds(batch, options);
            for (int i = 0; i < results.Count; i++)
            {
                var r = results[i];
                if (r.GeneratedIds.Length == 0) continue;
                examples.Add(new SftExample(batch[i], r.GeneratedIds, tokenizer.Decode(batch[i]), r.Text));
            }
            onBatch?.Invoke(Math.Min(prompts.Count, start + batch.Count));
        }
        if (examples.Count == 0) throw new DistillSharpException("the teacher generated no token for any seqkd prompt");
        return (examples, clock.Elapsed.TotalSeconds);
    }
}
