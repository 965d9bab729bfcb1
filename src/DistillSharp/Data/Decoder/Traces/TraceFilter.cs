using System.Text.RegularExpressions;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>Which traces become SFT examples.</summary>
/// <param name="MinTokens">Fewest response tokens (the student's tokenizer) a kept trace has.</param>
/// <param name="MaxTokens">Most response tokens (0 = no bound).</param>
/// <param name="Dedup">Drop a trace whose response (whitespace-normalised) equals an earlier kept one's.</param>
/// <param name="DropRefusals">Drop responses that open with a refusal ("I'm sorry", "I cannot", "As an AI", …).</param>
/// <param name="VerifyRegex">Keep only answers matching this regex (null = no check).</param>
/// <param name="ExactAnswer">Keep only answers equal (trimmed) to the prompt's reference answer; prompts without one are dropped.</param>
/// <param name="KeepThinking">Keep reasoning (<c>&lt;think&gt;…&lt;/think&gt;</c> or <c>reasoning_content</c>) in the response; false strips it.</param>
public sealed record TraceFilterOptions(int MinTokens = 1, int MaxTokens = 0, bool Dedup = true, bool DropRefusals = true,
    string? VerifyRegex = null, bool ExactAnswer = false, bool KeepThinking = true);

/// <summary>A kept trace and the response the student learns (reasoning kept or stripped).</summary>
/// <param name="Trace">The stored trace.</param>
/// <param name="Response">The response text.</param>
/// <param name="Verbatim">True when <paramref name="Response"/> is exactly the tokens the endpoint generated (nothing stripped or added), so their log-probabilities line up with it.</param>
public sealed record KeptTrace(TeacherTrace Trace, string Response, bool Verbatim);

/// <summary>How many traces each filter removed, in the order they run.</summary>
public sealed record TraceFilterReport(int Input, IReadOnlyDictionary<string, int> Removed, int Kept);

/// <summary>
/// The filters before SFT, in order: <c>empty</c> (nothing left after reasoning is set aside),
/// <c>refusal</c>, <c>verifier</c> (regex and/or exact answer, on the answer without its reasoning),
/// <c>length</c> (response tokens within bounds), <c>duplicate</c> (first occurrence kept).
/// </summary>
public static partial class TraceFilter
{
    /// <summary>Filter names in the order they run (the report's keys).</summary>
    public static readonly string[] Names = ["empty", "refusal", "verifier", "length", "duplicate"];

    static readonly string[] RefusalOpenings =
    [
        "i'm sorry", "i am sorry", "sorry, i", "i cannot", "i can't", "i can not", "i won't", "i will not", "i'm unable", "i am unable",
        "i'm not able", "i am not able", "as an ai", "i apologize", "i must decline",
    ];

    [GeneratedRegex(@"<think>.*?(</think>|$)", RegexOptions.Singleline)]
    private static partial Regex ThinkBlock();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>The kept traces (input order) and the counts; <paramref name="countTokens"/> measures a response in student tokens.</summary>
    public static (List<KeptTrace> Kept, TraceFilterReport Report) Apply(IReadOnlyList<TeacherTrace> traces, TraceFilterOptions options,
        Func<string, int> countTokens)
    {
        var verify = options.VerifyRegex is { } pattern ? new Regex(pattern, RegexOptions.Singleline, TimeSpan.FromSeconds(1)) : null;
        var removed = Names.ToDictionary(n => n, _ => 0);
        var seen = new HashSet<string>();
        var kept = new List<KeptTrace>();
        foreach (var t in traces)
        {
            string answer = ThinkBlock().Replace(t.Text, "").Trim();
            string? reason = null;
            if (answer.Length == 0) reason = "empty";
            else if (options.DropRefusals && IsRefusal(answer)) reason = "refusal";
            else if ((verify is not null && !verify.IsMatch(answer)) || (options.ExactAnswer && (t.Answer is null || answer != t.Answer.Trim()))) reason = "verifier";
            var (response, verbatim) = Response(t, options.KeepThinking);
            if (reason is null)
            {
                int n = countTokens(response);
                if (n < options.MinTokens || (options.MaxTokens > 0 && n > options.MaxTokens)) reason = "length";
            }
            if (reason is null && options.Dedup && !seen.Add(Spaces().Replace(response, " ").Trim())) reason = "duplicate";
            if (reason is null) kept.Add(new KeptTrace(t, response, verbatim));
            else removed[reason]++;
        }
        return (kept, new TraceFilterReport(traces.Count, removed, kept.Count));
    }

    /// <summary>True when the answer opens with a refusal phrase.</summary>
    public static bool IsRefusal(string answer)
    {
        string start = answer.TrimStart().Replace('’', '\'').ToLowerInvariant();
        return RefusalOpenings.Any(r => start.StartsWith(r, StringComparison.Ordinal));
    }

    static (string Response, bool Verbatim) Response(TeacherTrace t, bool keepThinking)
    {
        if (!keepThinking)
        {
            string stripped = ThinkBlock().Replace(t.Text, "");
            return stripped == t.Text ? (t.Text, true) : (stripped.TrimStart(), false);
        }
        if (t.Reasoning is { Length: > 0 } r) return ($"<think>{r}</think>{t.Text}", false);
        return (t.Text, true);
    }
}
