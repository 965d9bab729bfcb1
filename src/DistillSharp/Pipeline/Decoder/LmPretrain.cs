using System.Diagnostics;
using DistillSharp.Config.Decoder;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>What `distill pretrain` produced.</summary>
/// <param name="Folder">The HF decoder folder written (--out).</param>
/// <param name="CacheFolder">The cached teacher it was copied from.</param>
/// <param name="Cached">True when the teacher was already in the cache (nothing trained).</param>
/// <param name="Params">Teacher parameters.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record LmPretrainOutcome(string Folder, string CacheFolder, bool Cached, long Params, double Seconds);

public static partial class LmPipeline
{
    /// <summary>
    /// `distill pretrain`: only the tokenizer and the teacher of <paramref name="config"/> (which must
    /// have teacher.pretrain) — cached exactly as a full run caches it, so a later `distill run` of the
    /// same config reuses it — copied to <paramref name="outDir"/> as an HF decoder folder.
    /// </summary>
    public static LmPretrainOutcome Pretrain(LmRunConfig config, string outDir, LmRunOptions options)
    {
        if (config.Teacher.Pretrain is not { } recipe)
            throw new DistillSharpException("distill pretrain needs a config with teacher.pretrain (this one has teacher.source)");
        var clock = Stopwatch.StartNew();
        string dir = Runtime.Formats.OutputPath.Folder(outDir, "--out");
        if (File.Exists(Path.Combine(dir, "config.json")))
            throw new DistillSharpException($"{dir} already holds a model (config.json); choose another --out");
        string cacheRoot = options.CacheRoot ?? CachePaths.Root;
        var split = options.Corpus?.Invoke(options.Log) ?? LmRunData.LoadSplit(config.Data, options.Log);
        var tokenizer = LmRunData.TrainTokenizer(split, config.Tokenizer);
        string tokenizerDir = Path.Combine(Path.GetTempPath(), "distillsharp-tokenizer-" + Guid.NewGuid().ToString("N")[..8]);
        string tokenizerHash;
        try
        {
            tokenizer.Save(tokenizerDir);
            tokenizerHash = LmRunData.FolderHash(tokenizerDir);
        }
        finally
        {
            if (Directory.Exists(tokenizerDir)) Directory.Delete(tokenizerDir, recursive: true);
        }
        var data = LmRunData.Encode(split, tokenizer);
        string key = LmTeacherProvider.PretrainKey(config, options.MaxSteps, data, tokenizerHash);
        bool cached = LmTeacherProvider.CachedFolder(cacheRoot, key) is not null;
        long teacherParams = recipe.Shape.EstimateParams(tokenizer.VocabSize);
        var plan = new List<LmPhasePlan>();
        if (!cached) plan.Add(LmRunPlan.Build(config, options.MaxSteps, true, teacherParams, 1)[0]);
        var tracker = new LmEtaTracker(plan, options.Progress);
        if (!cached) tracker.Begin(LmRunPlan.Pretrain);
        var teacher = LmTeacherProvider.Pretrained(config, options.MaxSteps, data, cacheRoot, key, tracker, options.Log);
        if (!cached) tracker.End();
        using var model = teacher.Model;
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(teacher.Folder))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
        options.Log.WriteLine($"teacher ({model.ParameterCount:N0} parameters) written to {dir}{(cached ? " (from the cache)" : "")}");
        return new LmPretrainOutcome(dir, teacher.Folder, cached, model.ParameterCount, clock.Elapsed.TotalSeconds);
    }
}
