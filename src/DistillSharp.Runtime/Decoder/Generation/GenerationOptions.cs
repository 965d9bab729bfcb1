namespace DistillSharp.Runtime.Decoder.Generation;

/// <summary>
/// How to continue prompts. Temperature 0 = greedy (argmax); otherwise logits are divided by the
/// temperature, filtered by top-k and top-p, and sampled with a seeded generator. The repetition
/// penalty (CTRL, Keskar et al. 2019) applies to every token in the prompt and the output so far.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate at most per prompt.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Softmax temperature; 0 = greedy.</summary>
    public double Temperature { get; init; }
    /// <summary>Keep the k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p (1 = off).</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Divide positive (multiply negative) logits of seen tokens by this (1 = off).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>Token ids that end a sequence (null = the model's and tokenizer's EOS).</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }
    /// <summary>Texts that end a sequence; the result text is cut before the first one.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Seed of the sampler.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Checks every value; errors name the option and the bad value.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new DistillSharpException($"max-new-tokens must be ≥ 0, got {MaxNewTokens}");
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new DistillSharpException($"temperature must be ≥ 0 (0 = greedy), got {Temperature}");
        if (TopK < 0) throw new DistillSharpException($"top-k must be ≥ 0 (0 = off), got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new DistillSharpException($"top-p must be in (0, 1], got {TopP}");
        if (!(RepetitionPenalty > 0) || double.IsInfinity(RepetitionPenalty)) throw new DistillSharpException($"repetition-penalty must be > 0 (1 = off), got {RepetitionPenalty}");
        if (StopStrings.Any(string.IsNullOrEmpty)) throw new DistillSharpException("stop strings must not be empty");
    }
}

/// <summary>Why a sequence stopped.</summary>
public enum StopReason
{
    /// <summary>Reached <see cref="GenerationOptions.MaxNewTokens"/>.</summary>
    MaxNewTokens,
    /// <summary>Generated a stop token (EOS).</summary>
    StopToken,
    /// <summary>The text came to contain a stop string.</summary>
    StopString,
}

/// <summary>
/// One prompt's continuation: prompt ids, generated ids (a final stop token included), text of the
/// generated ids (stop token left out, cut before a stop string), stop reason, and the batch's
/// prefill (prompt forward) and decode (all following steps) wall times.
/// </summary>
public sealed record GenerationResult(int[] PromptIds, int[] GeneratedIds, string Text, StopReason StopReason,
    TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    /// <summary>Generated tokens per second of decode time (this sequence's tokens after the first).</summary>
    public double DecodeTokensPerSecond => GeneratedIds.Length > 1 && DecodeTime > TimeSpan.Zero
        ? (GeneratedIds.Length - 1) / DecodeTime.TotalSeconds : 0;
}
