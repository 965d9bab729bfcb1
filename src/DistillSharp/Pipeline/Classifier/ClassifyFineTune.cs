using System.Diagnostics;
using DistillSharp.Config.Classifier;
using DistillSharp.Evaluation.Classifier;

namespace DistillSharp.Pipeline.Classifier;

/// <summary>What `distill finetune` produced.</summary>
/// <param name="Folder">The HF classifier folder written (--out).</param>
/// <param name="CacheFolder">The cached teacher it was copied from.</param>
/// <param name="Cached">True when the teacher was already in the cache (nothing trained).</param>
/// <param name="TestAccuracy">Accuracy on the run's test split.</param>
/// <param name="TestMacroF1">Macro-F1 on the run's test split.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record ClassifyFineTuneOutcome(string Folder, string CacheFolder, bool Cached, double TestAccuracy, double TestMacroF1, double Seconds);

public static partial class ClassifyPipeline
{
    /// <summary>
    /// `distill finetune`: only the data and the teacher of <paramref name="config"/> (which must have
    /// teacher.base and teacher.finetune) — cached exactly as a full run caches it, so a later
    /// `distill run` of the same config reuses it — copied to <paramref name="outDir"/> as a Hugging
    /// Face classifier folder, and scored on the test split.
    /// </summary>
    public static ClassifyFineTuneOutcome FineTune(ClassifyRunConfig config, string outDir, ClassifyRunOptions options)
    {
        if (config.Teacher.Base is null || config.Teacher.FineTune is null)
            throw new DistillSharpException("distill finetune needs a config with teacher.base and teacher.finetune (this one has teacher.source)");
        var clock = Stopwatch.StartNew();
        string dir = Path.GetFullPath(outDir);
        if (File.Exists(Path.Combine(dir, "config.json")))
            throw new DistillSharpException($"{dir} already holds a model (config.json); choose another --out");
        var data = ClassifyRunData.Load(config.Data, options.Log);
        var teacher = ClassifierTeacherProvider.Get(config, data, options.MaxSteps, options.CacheRoot ?? CachePaths.Root, options.Log,
            p => options.Progress?.Invoke("finetune", p));
        using var model = teacher.Model;
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(teacher.Folder))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
        var score = ClassifierEvaluation.Score(model.Probabilities(data.TestTexts, 64), data.TestLabels, data.Split.Labels);
        options.Log.WriteLine($"teacher written to {dir}{(teacher.Phase?.Cached == true ? " (from the cache)" : "")}; test accuracy {score.Accuracy:F4}, " +
                              $"macro-F1 {score.MacroF1:F4} [{score.MacroF1Interval.Low:F4}, {score.MacroF1Interval.High:F4}] on {data.TestTexts.Count:N0} texts");
        return new ClassifyFineTuneOutcome(dir, teacher.Folder, teacher.Phase?.Cached == true, score.Accuracy, score.MacroF1, clock.Elapsed.TotalSeconds);
    }
}
