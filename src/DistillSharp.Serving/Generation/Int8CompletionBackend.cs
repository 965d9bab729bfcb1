using System.Text;
using DistillSharp.Runtime;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Decoder.Generation;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Serving.Backends;

namespace DistillSharp.Serving.Generation;

/// <summary>
/// Continues a batch of prompts with an <see cref="Int8Decoder"/> (no libtorch): one prefill of all
/// prompts (packed, each from position 0), then one decode step per token for all sequences;
/// each sequence samples with its own seeded <see cref="SplitMix64"/> through
/// <see cref="TokenFilters.Choose"/> (so batching does not change its tokens) and stops on its own
/// (EOS, a stop string, max tokens, its caller gone); finished rows are fed their last token until
/// the batch ends. Log-probabilities are the log-softmax of the raw logits, in double.
/// </summary>
public sealed class Int8CompletionBackend : ICompletionBackend
{
    readonly Int8Decoder _decoder;
    readonly DecoderTokenizer _tokenizer;
    readonly HashSet<int> _stopIds, _added;
    readonly Dictionary<int, Int8DecoderSession> _sessions = [];

    /// <summary>Serves <paramref name="decoder"/> with <paramref name="tokenizer"/>; <paramref name="maxContext"/> caps the session length (0 = the model's).</summary>
    public Int8CompletionBackend(Int8Decoder decoder, DecoderTokenizer tokenizer, int maxContext = 0)
    {
        _decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        if (tokenizer.VocabSize > decoder.Config.VocabSize)
            throw new DistillSharpException($"the tokenizer has {tokenizer.VocabSize} ids but the model only {decoder.Config.VocabSize}");
        MaxContext = maxContext > 0 ? Math.Min(maxContext, decoder.Config.MaxPositions) : decoder.Config.MaxPositions;
        _stopIds = [.. decoder.Config.EosTokenIds];
        if (tokenizer.EosId is { } eos) _stopIds.Add(eos);
        _added = [.. tokenizer.AddedTokens.Select(a => a.Id)];
    }

    /// <inheritdoc/>
    public string Runtime => "int8";
    /// <inheritdoc/>
    public int VocabSize => _decoder.Config.VocabSize;
    /// <inheritdoc/>
    public int MaxContext { get; }

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        var ids = _tokenizer.Encode(text, _tokenizer.AddBosToken);
        if (ids.Length > 0) return ids;
        return _tokenizer.BosId is { } bos ? [bos] : _tokenizer.EosId is { } eos ? [eos]
            : throw new DistillSharpException("the prompt is empty and the tokenizer has no BOS/EOS token to start from");
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);

    /// <inheritdoc/>
    public byte[] TokenBytes(int id)
    {
        string token = _tokenizer.IdToToken(id);
        var bytes = new List<byte>();
        if (_added.Contains(id) || !ByteLevelAlphabet.AppendBytes(token, bytes)) return Encoding.UTF8.GetBytes(token);
        return [.. bytes];
    }

    /// <inheritdoc/>
    public IReadOnlyList<CompletionResult> Generate(IReadOnlyList<CompletionJob> jobs)
    {
        var live = jobs.Where(j => j.MaxTokens > 0).ToList();
        var generated = live.Count > 0 ? Continue(live) : [];
        var results = new CompletionResult[jobs.Count];
        for (int i = 0, g = 0; i < jobs.Count; i++)
        {
            var result = jobs[i].MaxTokens > 0 ? generated[g++] : new CompletionResult([], "", "length");
            results[i] = jobs[i].Echo ? result with { Prompt = Score(jobs[i]) } : result;
        }
        return results;
    }

    /// <summary>
    /// The prompt's tokens with, from the second on, log softmax of the logits at the position before
    /// (the runtime's logits of every prompt position, one forward): the legacy API's echo.
    /// </summary>
    List<GeneratedToken> Score(CompletionJob job)
    {
        int v = VocabSize;
        var logits = _decoder.Logits(job.Prompt);
        var tokens = new List<GeneratedToken>(job.Prompt.Length) { new(job.Prompt[0], _tokenizer.Decode([job.Prompt[0]]), null, []) };
        for (int t = 1; t < job.Prompt.Length; t++)
        {
            var (logprob, top) = Logprobs(logits.AsSpan((t - 1) * v, v), job.Prompt[t], Math.Max(0, job.TopLogprobs));
            tokens.Add(new GeneratedToken(job.Prompt[t], _tokenizer.Decode([job.Prompt[t]]), logprob, top));
        }
        return tokens;
    }

    List<CompletionResult> Continue(IReadOnlyList<CompletionJob> jobs)
    {
        int b = jobs.Count, v = VocabSize;
        if (!_sessions.TryGetValue(b, out var session)) _sessions[b] = session = _decoder.NewSession(b, MaxContext);
        var seqs = jobs.Select(j => new Sequence(j, _tokenizer)).ToArray();
        var logits = _decoder.Prefill(session, jobs.Select(j => j.Prompt).ToList());
        var row = new float[v];
        var next = new int[b];
        while (true)
        {
            for (int r = 0; r < b; r++)
            {
                var s = seqs[r];
                if (s.Done) continue;
                if (s.Job.Cancel.IsCancellationRequested)
                {
                    s.Finish("stop");
                    continue;
                }
                var raw = logits.Slice(r * v, v);
                raw.CopyTo(row);
                int token = TokenFilters.Choose(row, s.Seen, s.Options, s.Rng);
                var (logprob, top) = s.Job.TopLogprobs >= 0 ? Logprobs(raw, token, s.Job.TopLogprobs) : (null, []);
                s.Add(token, _stopIds.Contains(token), logprob, top);
                next[r] = token;
            }
            if (seqs.All(s => s.Done)) break;
            logits = _decoder.Decode(session, next);
        }
        return seqs.Select(s => s.Result()).ToList();
    }

    /// <summary>
    /// log softmax(<paramref name="logits"/>) of <paramref name="chosen"/> and of the <paramref name="k"/>
    /// most likely ids (ties by lower id), most likely first; computed in double.
    /// </summary>
    public static (TokenLogprob? Chosen, TokenLogprob[] Top) Logprobs(ReadOnlySpan<float> logits, int chosen, int k)
    {
        double max = double.NegativeInfinity;
        foreach (float x in logits) max = Math.Max(max, x);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        double logZ = max + Math.Log(sum);
        var top = new List<int>(k + 1);
        for (int i = 0; i < logits.Length && k > 0; i++)
        {
            float x = logits[i];
            if (top.Count == k && x <= logits[top[^1]]) continue;
            int at = top.Count;
            while (at > 0 && logits[top[at - 1]] < x) at--;
            top.Insert(at, i);
            if (top.Count > k) top.RemoveAt(k);
        }
        var result = new TokenLogprob[top.Count];
        for (int j = 0; j < top.Count; j++) result[j] = new TokenLogprob(top[j], (float)(logits[top[j]] - logZ));
        return (new TokenLogprob(chosen, (float)(logits[chosen] - logZ)), result);
    }

    /// <summary>Frees the sessions' KV caches and the decoder's threads.</summary>
    public void Dispose()
    {
        _sessions.Clear();
        _decoder.Dispose();
    }

    // One sequence of a batch: its sampler, the tokens so far, the text it has settled.
    sealed class Sequence
    {
        public readonly CompletionJob Job;
        public readonly GenerationOptions Options;
        public readonly SplitMix64 Rng;
        public readonly List<int> Seen;
        public readonly StopText Text;
        readonly List<GeneratedToken> _tokens = [];
        int _generated;
        string? _finish;

        public Sequence(CompletionJob job, DecoderTokenizer tokenizer)
        {
            Job = job;
            var p = job.Sampling;
            Options = new GenerationOptions
            {
                MaxNewTokens = job.MaxTokens, Temperature = p.Temperature, TopK = p.TopK, TopP = p.TopP,
                RepetitionPenalty = p.RepetitionPenalty, Seed = p.Seed,
            };
            Rng = new SplitMix64(p.Seed);
            Seen = [.. job.Prompt];
            Text = new StopText(tokenizer, job.Stop);
        }

        public bool Done => _finish is not null;

        public void Add(int token, bool isStop, TokenLogprob? logprob, IReadOnlyList<TokenLogprob> top)
        {
            Seen.Add(token);
            _generated++;
            if (isStop) _finish = "stop";
            else if (_generated >= Job.MaxTokens) _finish = "length";
            string piece = Text.Add(token, isStop, finished: _finish is not null);
            if (Text.HitStopString) _finish = "stop";
            var generated = new GeneratedToken(token, piece, logprob, top);
            _tokens.Add(generated);
            Job.OnToken?.Invoke(generated);
        }

        public void Finish(string reason) => _finish ??= reason;

        public CompletionResult Result() => new(_tokens, Text.Text, _finish ?? "length");
    }
}
