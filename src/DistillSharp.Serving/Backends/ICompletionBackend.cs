namespace DistillSharp.Serving.Backends;

/// <summary>How the next token is chosen (Hugging Face's logits processors, in their order).</summary>
/// <param name="Temperature">0 = greedy; otherwise logits / temperature, then top-k, top-p, sampling.</param>
/// <param name="TopP">Nucleus mass (1 = off).</param>
/// <param name="TopK">Keep the k most likely (0 = off).</param>
/// <param name="RepetitionPenalty">CTRL penalty on tokens of the prompt and the output so far (1 = off).</param>
/// <param name="Seed">Seed of this sequence's sampler: the same request gives the same tokens, batched or not.</param>
public sealed record SamplingParams(double Temperature = 1, double TopP = 1, int TopK = 0, double RepetitionPenalty = 1, ulong Seed = 42);

/// <summary>One sequence to continue.</summary>
/// <param name="Prompt">Prompt ids (non-empty, in the vocabulary).</param>
/// <param name="MaxTokens">Most tokens to generate (≥ 1; prompt + this ≤ the context).</param>
/// <param name="Sampling">Sampling parameters.</param>
/// <param name="Stop">Texts that end the sequence; the text is cut before the first.</param>
/// <param name="TopLogprobs">−1: no log-probabilities; k ≥ 0: the chosen token's and the k most likely tokens' log-probabilities.</param>
/// <param name="OnToken">Called on the generation thread as each token is chosen, with the text it settles.</param>
/// <param name="Cancel">The caller went away: stop this sequence (the batch goes on).</param>
/// <param name="Echo">Also score the prompt: the log-probability of each prompt token after the first given the tokens before it
/// (with <paramref name="TopLogprobs"/> alternatives); <paramref name="MaxTokens"/> may then be 0 (score only).</param>
public sealed record CompletionJob(int[] Prompt, int MaxTokens, SamplingParams Sampling, IReadOnlyList<string> Stop, int TopLogprobs,
    Action<GeneratedToken>? OnToken, CancellationToken Cancel, bool Echo = false);

/// <summary>A token and its log-probability: log-softmax of the model's raw logits at that position (before penalty, temperature and filters).</summary>
public readonly record struct TokenLogprob(int Id, float Logprob);

/// <summary>
/// A chosen token: its id, the text it settles (may be empty while an incomplete UTF-8 character or
/// a possible stop string is held back, or hold several tokens' text at once), and, when asked,
/// its log-probability with the top alternatives sorted most likely first.
/// </summary>
public sealed record GeneratedToken(int Id, string Text, TokenLogprob? Logprob, IReadOnlyList<TokenLogprob> Top);

/// <summary>
/// Why a sequence stopped: <c>stop</c> (EOS or a stop string) or <c>length</c> (max tokens); with echo,
/// <see cref="Prompt"/> holds the prompt's tokens, the first without a log-probability.
/// </summary>
public sealed record CompletionResult(IReadOnlyList<GeneratedToken> Tokens, string Text, string FinishReason)
{
    /// <summary>The scored prompt tokens of an echo job (their text and log-probabilities); null otherwise.</summary>
    public IReadOnlyList<GeneratedToken>? Prompt { get; init; }
}

/// <summary>
/// A decoder LM with its tokenizer that continues a batch of sequences to the end (prefill, then one
/// token per sequence per step, each stopping on its own). Called from one thread at a time (the
/// completion queue owns it).
/// </summary>
public interface ICompletionBackend : IDisposable
{
    /// <summary>Runtime name (int8, …).</summary>
    string Runtime { get; }
    /// <summary>Ids are in [0, VocabSize).</summary>
    int VocabSize { get; }
    /// <summary>Most tokens a sequence may hold, prompt and generated together.</summary>
    int MaxContext { get; }
    /// <summary>Prompt ids of <paramref name="text"/> (BOS first when the tokenizer adds one; never empty).</summary>
    int[] Encode(string text);
    /// <summary>Text of <paramref name="ids"/>; an incomplete UTF-8 character at the end becomes U+FFFD.</summary>
    string Decode(IEnumerable<int> ids);
    /// <summary>The bytes token <paramref name="id"/> stands for.</summary>
    byte[] TokenBytes(int id);
    /// <summary>Continues <paramref name="jobs"/> as one batch; one result per job, in order.</summary>
    IReadOnlyList<CompletionResult> Generate(IReadOnlyList<CompletionJob> jobs);
}
