using System.Diagnostics;
using DistillSharp.Runtime;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Decoder.Generation;

namespace DistillSharp.Models.Decoder.Generation;

/// <summary>
/// Continues a batch of prompts with a <see cref="CausalLm"/>: prompts of different lengths are
/// left-padded into one batch, the prompt runs once (prefill) into a <see cref="KvCache"/>, then one
/// token per step per sequence (decode). Each sequence stops on its own (stop token, stop string or
/// length); finished rows are fed padding, masked out, until all are done. Callbacks stream each
/// token (<see cref="GenerateIds"/>) or each new piece of text (<see cref="Generate"/>).
/// </summary>
public sealed class TextGenerator(CausalLm model, DecoderTokenizer tokenizer)
{
    sealed class Sequence(int[] prompt, StopText? text)
    {
        public readonly int[] Prompt = prompt;
        public readonly List<int> Generated = [];
        public readonly StopText? Text = text;   // when text is streamed or stop strings apply
        public StopReason? Reason;
    }

    /// <summary>Encodes each prompt (BOS first when the tokenizer asks for it) and continues it; <paramref name="onText"/> gets (prompt index, new text).</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<string> prompts, GenerationOptions options, Action<int, string>? onText = null)
    {
        var ids = prompts.Select(p => tokenizer.Encode(p, tokenizer.AddBosToken)).ToList();
        for (int i = 0; i < ids.Count; i++)
            if (ids[i].Length == 0)
                ids[i] = tokenizer.BosId is { } bos ? [bos] : tokenizer.EosId is { } eos ? [eos]
                    : throw new DistillSharpException($"prompt {i} is empty and the tokenizer has no BOS/EOS token to start from");
        return Run(ids, options, null, onText);
    }

    /// <summary>Continues token-id prompts; <paramref name="onToken"/> gets (prompt index, token id) as each is chosen.</summary>
    public IReadOnlyList<GenerationResult> GenerateIds(IReadOnlyList<int[]> prompts, GenerationOptions options, Action<int, int>? onToken = null) =>
        Run(prompts, options, onToken, null);

    IReadOnlyList<GenerationResult> Run(IReadOnlyList<int[]> prompts, GenerationOptions options, Action<int, int>? onToken, Action<int, string>? onText)
    {
        options.Validate();
        if (prompts.Count == 0) throw new DistillSharpException("no prompts given");
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Length == 0) throw new DistillSharpException($"prompt {i} has no tokens");
            foreach (int t in prompts[i])
                if (t < 0 || t >= model.Config.VocabSize)
                    throw new DistillSharpException($"prompt {i} holds token id {t}, outside the model's vocabulary [0, {model.Config.VocabSize})");
        }
        int b = prompts.Count, longest = prompts.Max(p => p.Length);
        if ((long)longest + options.MaxNewTokens > model.Config.MaxPositions)
            throw new DistillSharpException(
                $"max-new-tokens {options.MaxNewTokens} + {longest} prompt tokens exceed the model's {(model.Config.IsGpt2 ? "n_positions" : "max_position_embeddings")} {model.Config.MaxPositions}");
        var stopIds = (options.StopTokenIds ?? model.Config.EosTokenIds.Concat(tokenizer.EosId is { } e ? [e] : [])).ToHashSet();
        long pad = tokenizer.PadId ?? tokenizer.EosId ?? 0;
        var rng = new SplitMix64(options.Seed);
        bool wantText = onText is not null || options.StopStrings.Count > 0;
        var seqs = prompts.Select(p => new Sequence(p, wantText ? new StopText(tokenizer, options.StopStrings) : null)).ToList();

        var ids = new long[b * longest];
        var mask = new long[b * longest];
        for (int r = 0; r < b; r++)
            for (int c = 0; c < longest; c++)
            {
                int offset = c - (longest - prompts[r].Length);
                ids[r * longest + c] = offset >= 0 ? prompts[r][offset] : pad;
                mask[r * longest + c] = offset >= 0 ? 1 : 0;
            }

        model.eval();
        using var noGrad = no_grad();
        using var cache = model.NewCache();
        var maskColumns = new List<long[]>();
        var clock = Stopwatch.StartNew();
        float[][] last = Step(ids, mask, b, longest, cache);
        var prefill = clock.Elapsed;
        clock.Restart();
        int steps = 0;
        while (options.MaxNewTokens > 0)
        {
            var next = new long[b];
            var column = new long[b];
            for (int r = 0; r < b; r++)
            {
                var s = seqs[r];
                if (s.Reason is not null) { next[r] = pad; continue; }
                int token = TokenFilters.Choose(last[r], s.Prompt.Concat(s.Generated), options, rng);
                s.Generated.Add(token);
                onToken?.Invoke(r, token);
                if (stopIds.Contains(token)) s.Reason = StopReason.StopToken;
                else if (s.Generated.Count >= options.MaxNewTokens) s.Reason = StopReason.MaxNewTokens;
                if (s.Text is { } text)
                {
                    string piece = text.Add(token, s.Reason == StopReason.StopToken, finished: s.Reason is not null);
                    if (text.HitStopString) s.Reason = StopReason.StopString;
                    if (piece.Length > 0) onText?.Invoke(r, piece);
                }
                next[r] = token;
                column[r] = 1;
            }
            steps++;
            if (seqs.All(s => s.Reason is not null)) break;
            maskColumns.Add(column);
            var fullMask = new long[b * (longest + steps)];
            for (int r = 0; r < b; r++)
            {
                Array.Copy(mask, r * longest, fullMask, r * (longest + steps), longest);
                for (int c = 0; c < steps; c++) fullMask[r * (longest + steps) + longest + c] = maskColumns[c][r];
            }
            last = Step(next, fullMask, b, 1, cache);
        }
        var decode = clock.Elapsed;
        return seqs.Select(s =>
        {
            string text = s.Text?.Text ?? tokenizer.Decode(s.Generated.Where((t, i) => !(i == s.Generated.Count - 1 && s.Reason == StopReason.StopToken)));
            return new GenerationResult(s.Prompt, [.. s.Generated], text, s.Reason ?? StopReason.MaxNewTokens, prefill, decode);
        }).ToList();
    }

    float[][] Step(long[] ids, long[] mask, int b, int t, KvCache cache)
    {
        using var scope = NewDisposeScope();
        var logits = model.Forward(tensor(ids, [b, t]), tensor(mask, [b, mask.Length / b]), cache).Logits;                     // (B, T, V)
        var lastRow = logits.select(1, logits.shape[1] - 1).to_type(ScalarType.Float32).contiguous(); // (B, V)
        var flat = lastRow.data<float>().ToArray();
        int v = (int)lastRow.shape[1];
        return Enumerable.Range(0, (int)lastRow.shape[0]).Select(r => flat.AsSpan(r * v, v).ToArray()).ToArray();
    }
}
