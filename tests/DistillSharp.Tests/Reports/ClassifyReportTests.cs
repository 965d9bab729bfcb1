using DistillSharp.Evaluation.Classifier;
using DistillSharp.Pipeline.Classifier;
using DistillSharp.Reports.Classifier;
using DistillSharp.Reports.Decoder;

namespace DistillSharp.Tests.Reports;

/// <summary>report.json of a classification run: round trip, report.md and plots.</summary>
public sealed class ClassifyReportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("cls-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static ClassifyReport Sample()
    {
        string[] labels = ["animal", "thing", "action"];
        int[] actual = [0, 0, 1, 1, 2, 2, 2, 0];
        float[][] Probabilities(int wrong) => actual.Select((a, i) => Enumerable.Range(0, 3)
            .Select(c => c == (i < wrong ? (a + 1) % 3 : a) ? 0.8f : 0.1f).ToArray()).ToArray();
        ClassifierVariantReport Row(string name, int wrong, double p50) => ClassifierVariants.Report(
            new ClassifierVariant(name, "torchsharp-fp32", _ => [], _ => { }, 1000, 4000, name),
            ClassifierEvaluation.Score(Probabilities(wrong), actual, labels, 50), null) with
        { LatencyMs = new Dictionary<string, double> { ["p50"] = p50, ["p99"] = 2 * p50 } };
        return new ClassifyReport
        {
            Run = new ClassifyRunInfo("configs/intent.yaml", "2026-12-01T00:00:00Z", 600, 2, null, _dirName, "1.0 1.0 1.0"),
            Data = new ClassifyDataReport("wordnet-categories", labels, [new("animal", 10, 1, 3), new("thing", 10, 1, 2), new("action", 10, 1, 3)],
                64, new Dictionary<string, int> { ["train"] = 1, ["test"] = 0 }, 50, 2, 60, ["made up"]),
            Phases = [new LmPhaseReport("finetune", 100, 50, 0.5, 0.3)],
            Variants = new() { ["teacher"] = Row("teacher", 1, 10), ["student"] = Row("student", 2, 2), ["baseline_ce"] = Row("baseline_ce", 3, 2) },
            StudentVsBaseline = new PairedDifferenceReport("student", "baseline_ce", 0.1, 0.02, 0.2),
            Notes = ["a note"],
        };
    }

    static readonly string _dirName = "runs/intent";

    [Fact]
    public void RoundTripsAndRendersTheReport()
    {
        var report = Sample();
        string path = Path.Combine(_dir, "report.json");
        report.Save(path);
        Assert.True(ClassifyReport.IsClassifyReport(path));
        var loaded = ClassifyReport.Load(path);
        Assert.Equal(report.Variants["student"].Confusion, loaded.Variants["student"].Confusion);
        Assert.True(double.IsNaN(loaded.Variants["student"].Reliability[0].Accuracy));    // an empty bin survives as NaN
        var output = ClassifyReportGenerator.Generate(_dir);
        Assert.Contains(Path.Combine(_dir, "plots", "confusion_student.png"), output.Written);
        Assert.Contains(Path.Combine(_dir, "plots", "reliability.png"), output.Written);
        string md = File.ReadAllText(Path.Combine(_dir, "report.md"));
        Assert.Contains("| student, distilled (TorchSharp fp32) | 1000 | 0.004 MB | 0.750 [", md);
        Assert.Contains("5.00×", md);                                             // teacher p50 10 ms / student 2 ms
        Assert.Contains("**student − baseline_ce, macro-F1:** +0.100 (paired bootstrap 95% interval [+0.020, +0.200]; above 0)", md);
        Assert.Contains("| animal | 10 | 1 | 3 |", md);
        Assert.Contains("none of the 8 test texts equals any of 60 training texts", md);
    }

    [Fact]
    public void AnEncoderReportIsNotAClassificationReport()
    {
        string path = Path.Combine(_dir, "report.json");
        File.WriteAllText(path, "{\"variants\": {}}");
        Assert.False(ClassifyReport.IsClassifyReport(path));
    }
}
