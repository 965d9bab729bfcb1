// --eval: the evaluation engines (Pipeline/Encoder/EvalEngines) side by side on the real evaluation
// texts of a run (WordNet held-out definitions and lemma lists, SpamAssassin mails, the agreement
// texts): the teacher embeds them 64 texts per call — as the tasks call it — alternating engine call
// by call, so a load change hits both alike; then every task metric is computed from each engine's
// embeddings, with the agreement of the two engines' embeddings.
using System.Diagnostics;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;

static class EvalEnginesBench
{
    public static object Run(SentenceEncoder teacher, int threads, int? limit)
    {
        var data = EvalData.Real(Console.Error);
        var wordnet = data.WordNet.Evaluation;
        var texts = wordnet.Select(s => s.Definition).Concat(wordnet.Select(s => s.LemmaList))
            .Concat(SpamF1Task.Texts(data.Mails.Train, 2000)).Concat(SpamF1Task.Texts(data.Mails.Test, 2000))
            .Concat(AgreementTask.HeldOutTexts(data.WordNet, data.Mails)).Distinct(StringComparer.Ordinal).ToList();
        if (limit is int n) texts = texts.Take(n).ToList();
        string[] engines = ["torchsharp-fp32", "onnxruntime-fp32"];
        var embedders = engines.ToDictionary(e => e, e => EvalEngines.Create(e, teacher, threads));
        var vectors = engines.ToDictionary(e => e, _ => new Dictionary<string, float[]>(StringComparer.Ordinal));
        var seconds = engines.ToDictionary(e => e, _ => 0.0);
        foreach (var e in engines) embedders[e].Embed(["warm up"]);
        for (int start = 0; start < texts.Count; start += 64)
        {
            var call = texts.GetRange(start, Math.Min(64, texts.Count - start));
            foreach (var e in start / 64 % 2 == 0 ? engines : engines.Reverse())
            {
                long t0 = Stopwatch.GetTimestamp();
                var v = embedders[e].Embed(call);
                seconds[e] += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                for (int i = 0; i < call.Count; i++) vectors[e][call[i]] = v[i];
            }
            if (start / 64 % 40 == 0) Console.Error.WriteLine($"eval engines: {start + call.Count}/{texts.Count} texts");
        }
        Func<IReadOnlyList<string>, float[][]> Lookup(string e) => batch => batch.Select(t => vectors[e][t]).ToArray();
        // With a limit, only the tasks whose texts were all embedded (the WordNet texts come first).
        string[] tasks = limit is null ? ["wordnet-retrieval", "spam-f1", "agreement"] : texts.Count >= 2 * wordnet.Count ? ["wordnet-retrieval"] : [];
        var quality = engines.ToDictionary(e => e, e => VariantMeasurer.Quality(Lookup(e), tasks, data, Lookup(engines[0]), TextWriter.Null));
        var worst = texts.Max(t => vectors[engines[0]][t].Zip(vectors[engines[1]][t], (a, b) => Math.Abs(a - b)).Max());
        foreach (var e in embedders.Values) e.Dispose();
        return new
        {
            texts = texts.Count, seconds = seconds.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 1)),
            onnxruntime_over_torchsharp_time = Math.Round(seconds[engines[1]] / seconds[engines[0]], 3),
            max_abs_embedding_diff = worst, quality,
        };
    }
}
