using DistillSharp.Benchmarks;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>One model variant's measurements, as report.json holds them; <paramref name="Recipe"/> names
/// the quantization recipe a quantized variant computes; <paramref name="CachedTasks"/> the tasks whose results came
/// from the evaluation cache (report keys).</summary>
public sealed record VariantMeasurement(
    long? Params, long? FileBytes, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Quality,
    BenchResult? Batch1, BenchResult? Batch32, string Runtime, string? Recipe = null, IReadOnlyList<string>? CachedTasks = null);

/// <summary>Measures quality (evaluation tasks) and speed (latency, throughput) of a variant.</summary>
public static class VariantMeasurer
{
    /// <summary>
    /// Runs the tasks; task names become report keys with '-' → '_' (wordnet_retrieval, spam_f1). With
    /// <paramref name="caching"/>, each task's result is read from (or written to) the evaluation cache,
    /// and the report keys of the tasks read from it are added to <paramref name="cachedTasks"/>.
    /// </summary>
    public static Dictionary<string, IReadOnlyDictionary<string, double>> Quality(
        Func<IReadOnlyList<string>, float[][]> embed, IReadOnlyList<string> tasks, EvalData data,
        Func<IReadOnlyList<string>, float[][]>? teacherEmbed, TextWriter log, EvalCaching? caching = null, List<string>? cachedTasks = null)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        var context = new EvalContext(embed, data, teacherEmbed, Log: log);
        foreach (string task in tasks)
        {
            if (EvalRegistry.NeedsTeacher.Contains(task) && teacherEmbed is null) continue;
            // A task that compares with the teacher when there is one depends on that teacher.
            bool needsTeacher = EvalRegistry.UsesTeacher.Contains(task) && teacherEmbed is not null;
            string reportKey = task.Replace('-', '_');
            IReadOnlyDictionary<string, double> Compute() => EvalRegistry.Create(task).Run(context).Metrics;
            if (caching is null || (needsTeacher && caching.Teacher is null))
            {
                result[reportKey] = Compute();
                continue;
            }
            string key = EvalCache.Key(caching.Subject, task, context, needsTeacher ? caching.Teacher : null);
            result[reportKey] = caching.Cache.GetOrCompute(key, Compute, log, out bool hit);
            if (!hit) continue;
            cachedTasks?.Add(reportKey);
            log.WriteLine($"{task}: from the evaluation cache ({key})");
        }
        return result;
    }

    /// <summary>
    /// Wraps an embedding function so each distinct text is embedded once per run: the agreement
    /// task asks the teacher for the same 3,209 texts once per variant.
    /// </summary>
    public static Func<IReadOnlyList<string>, float[][]> Memoized(Func<IReadOnlyList<string>, float[][]> embed)
    {
        var cache = new Dictionary<string, float[]>(StringComparer.Ordinal);
        return texts =>
        {
            var missing = texts.Where(t => !cache.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                var computed = embed(missing);
                for (int i = 0; i < missing.Count; i++) cache[missing[i]] = computed[i];
            }
            return texts.Select(t => cache[t]).ToArray();
        };
    }
}
