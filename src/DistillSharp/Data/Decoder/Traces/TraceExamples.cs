using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>Whether the teacher's tokens are the student's ids, and why.</summary>
/// <param name="Shared">True when token-level KD from the returned top log-probabilities is sound.</param>
/// <param name="Reason">What was compared and, when not shared, the first disagreement.</param>
/// <param name="TokensChecked">Generated tokens whose ids and text were compared.</param>
public sealed record VocabularyCheck(bool Shared, string Reason, long TokensChecked);

/// <summary>A kept trace as an SFT example, with the teacher's top-k per response token when they line up with the student's ids.</summary>
/// <param name="Example">Prompt and response in student ids.</param>
/// <param name="TopIds">Per response token, the teacher's alternatives' ids (most likely first); null for sequence-level only.</param>
/// <param name="TopLogprobs">Their log-probabilities.</param>
public sealed record TraceExample(SftExample Example, int[][]? TopIds, float[][]? TopLogprobs);

/// <summary>
/// From kept traces to SFT examples. The vocabulary check compares tokenizers, never assumes:
/// when the teacher's tokenizer file is known its every id must spell the same token as the
/// student's, and on the traces themselves every generated and alternative token must be a
/// <c>token_id:N</c> inside the student's vocabulary and each trace's ids must decode, with the
/// student's tokenizer, to exactly the text the endpoint returned.
/// </summary>
public static class TraceExamples
{
    /// <summary>Compares the student's tokenizer with the teacher's (file, when given) and with the endpoint's answers.</summary>
    public static VocabularyCheck CheckVocabulary(IReadOnlyList<TeacherTrace> traces, DecoderTokenizer student, DecoderTokenizer? teacherTokenizer)
    {
        if (teacherTokenizer is not null)
        {
            if (teacherTokenizer.VocabSize != student.VocabSize)
                return new(false, $"the teacher's tokenizer has {teacherTokenizer.VocabSize} ids, the student's {student.VocabSize}", 0);
            for (int id = 0; id < student.VocabSize; id++)
                if (teacherTokenizer.IdToToken(id) != student.IdToToken(id))
                    return new(false, $"id {id} is '{teacherTokenizer.IdToToken(id)}' for the teacher's tokenizer and '{student.IdToToken(id)}' for the student's", 0);
        }
        var withTokens = traces.Where(t => t.Tokens is { Count: > 0 }).ToList();
        if (withTokens.Count == 0) return new(false, "the endpoint returned no token log-probabilities to compare", 0);
        long checkedTokens = 0;
        foreach (var t in withTokens)
        {
            var ids = t.TokenIds;
            if (ids is null)
                return new(false, $"the endpoint named tokens by their text ('{t.Tokens!.First(n => TeacherTrace.TokenId(n) is null)}'), not token_id:N, so ids cannot be compared", checkedTokens);
            if (ids.FirstOrDefault(i => i >= student.VocabSize, -1) is int outside and >= 0)
                return new(false, $"the endpoint returned token id {outside}, outside the student's vocabulary of {student.VocabSize}", checkedTokens);
            foreach (var alt in t.Top ?? [])
                foreach (var a in alt)
                    if (TeacherTrace.TokenId(a.Token) is not int id || id >= student.VocabSize)
                        return new(false, $"the endpoint returned the alternative '{a.Token}', not a token_id:N inside the student's vocabulary", checkedTokens);
            string decoded = student.Decode(ids);
            // The token that stopped the teacher (EOS) is in the tokens but not in the text.
            if (decoded != t.Text && t.FinishReason == "stop" && ids.Length > 0) decoded = student.Decode(ids[..^1]);
            if (decoded != t.Text)
                return new(false, $"trace {t.Key[..12]}: the student's tokenizer decodes the teacher's ids to '{Clip(decoded)}', the endpoint wrote '{Clip(t.Text)}'", checkedTokens);
            checkedTokens += ids.Length;
        }
        return new(true, $"{checkedTokens} generated tokens of {withTokens.Count} traces are the student's ids (each trace's ids decode to its text with the student's tokenizer"
            + (teacherTokenizer is null ? ")" : "; the teacher's tokenizer file matches id for id)"), checkedTokens);
    }

    /// <summary>
    /// SFT examples of the kept traces: the prompt in student ids; the response as the teacher's own ids
    /// (with its top-k) when the vocabulary is shared and the response is verbatim, else the student's
    /// encoding of the response text plus EOS when the teacher stopped by itself.
    /// </summary>
    public static List<TraceExample> Build(IReadOnlyList<KeptTrace> kept, DecoderTokenizer student, bool sharedVocabulary, int topK)
    {
        var examples = new List<TraceExample>(kept.Count);
        foreach (var k in kept)
        {
            int[] prompt = student.Encode(k.Trace.Prompt);
            if (sharedVocabulary && k.Verbatim && k.Trace.TokenIds is { Length: > 0 } ids)
            {
                var top = k.Trace.Top;
                bool full = topK > 0 && top is not null && top.Count == ids.Length && top.All(a => a.Count >= topK);
                examples.Add(new TraceExample(new SftExample(prompt, ids, k.Trace.Prompt, k.Response),
                    full ? top!.Select(a => a.Take(topK).Select(x => TeacherTrace.TokenId(x.Token)!.Value).ToArray()).ToArray() : null,
                    full ? top!.Select(a => a.Take(topK).Select(x => x.Logprob).ToArray()).ToArray() : null));
                continue;
            }
            int[] response = student.Encode(k.Response);
            if (k.Trace.FinishReason == "stop" && student.EosId is int eos) response = [.. response, eos];
            if (response.Length > 0) examples.Add(new TraceExample(new SftExample(prompt, response, k.Trace.Prompt, k.Response), null, null));
        }
        return examples;
    }

    static string Clip(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
