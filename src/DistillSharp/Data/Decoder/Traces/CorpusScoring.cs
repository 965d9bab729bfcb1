using System.Globalization;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>
/// Corpus blocks scored by an endpoint teacher, the way the legacy OpenAI completions API and vLLM
/// score given text: each block's token ids sent as the prompt with <c>echo</c>, <c>max_tokens: 0</c>
/// and <c>logprobs: k</c>; the answer's entry t (t ≥ 1) holds the teacher's top-k alternatives for
/// token t given tokens 0 … t − 1. Answers are <see cref="TeacherTrace"/> records in a
/// <see cref="TraceStore"/> (<see cref="FileName"/>), collected by <see cref="TraceCollector.RunAsync"/>,
/// so scoring is resumable and never asks twice, exactly like trace collection.
/// </summary>
public static class CorpusScoring
{
    /// <summary>The store's file name in a run folder.</summary>
    public const string FileName = "scores.jsonl";

    /// <summary>The request scoring <paramref name="block"/> with <paramref name="k"/> alternatives per token.</summary>
    public static TeacherRequest Request(EndpointTeacher teacher, int[] block, int k)
    {
        string key = OpenAiWire.ScoreKey(teacher, block, k);
        var prompt = new TracePrompt(string.Join(' ', block.Select(i => i.ToString(CultureInfo.InvariantCulture))));
        return new TeacherRequest(key, OpenAiWire.Route(TraceApi.Completions), () => OpenAiWire.ScoreRequest(teacher, block, k),
            body => Checked(OpenAiWire.Parse(TraceApi.Completions, body, key, prompt), block, k), CountsPrompt: true);
    }

    /// <summary>
    /// The teacher's top-k for each next-token position of <paramref name="block"/> (position i predicts
    /// token i + 1: the answer's entry i + 1), as ids inside [0, <paramref name="vocab"/>) and log-probabilities.
    /// </summary>
    public static (int[] Ids, float[] Logprobs)[] NextTokenTops(TeacherTrace score, int[] block, int k, int vocab)
    {
        Checked(score, block, k);
        var tops = new (int[] Ids, float[] Logprobs)[block.Length - 1];
        for (int i = 0; i < tops.Length; i++)
        {
            var alternatives = score.Top![i + 1];
            var ids = new int[k];
            var logprobs = new float[k];
            for (int a = 0; a < k; a++)
            {
                int id = TeacherTrace.TokenId(alternatives[a].Token) ?? -1;
                if (id < 0 || id >= vocab)
                    throw new DistillSharpException($"scored block {score.Key[..12]} token {i + 1}: alternative '{alternatives[a].Token}' is not a token id in the student's vocabulary [0, {vocab})");
                ids[a] = id;
                logprobs[a] = alternatives[a].Logprob;
            }
            tops[i] = (ids, logprobs);
        }
        return tops;
    }

    // An answer that does not echo the block id for id with k alternatives per scored token is refused (not stored).
    static TeacherTrace Checked(TeacherTrace score, int[] block, int k)
    {
        var ids = score.TokenIds;
        if (ids is null || !ids.AsSpan().SequenceEqual(block))
            throw new DistillSharpException($"the endpoint's echo of a {block.Length}-token block is not the block id for id " +
                $"({(ids is null ? "no token_id:N tokens" : $"{ids.Length} tokens")}); it cannot score the student's tokens");
        if (score.Top is null || score.Top.Count != block.Length)
            throw new DistillSharpException($"the endpoint's echo of a {block.Length}-token block has {score.Top?.Count ?? 0} top_logprobs entries");
        for (int t = 1; t < block.Length; t++)
            if (score.Top[t].Count < k)
                throw new DistillSharpException($"the endpoint's echo gives token {t} of a block {score.Top[t].Count} alternatives, fewer than kd.top_k = {k}");
        return score;
    }
}
