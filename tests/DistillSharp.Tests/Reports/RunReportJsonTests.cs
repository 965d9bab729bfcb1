using DistillSharp.Reports.Encoder;

namespace DistillSharp.Tests.Reports;

public sealed class RunReportJsonTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("reportjson-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RoundTripKeepsEveryFieldAndTheVariantOrder()
    {
        var report = ReportFixtures.HandMade();
        string path = RunReportJson.Save(report, Path.Combine(_dir, "report.json"));
        var back = RunReportJson.Load(path);

        Assert.Equal(["teacher", "student", "student_int8", "baseline"], back.Variants.Keys);
        Assert.Equal(RunReportJson.Serialize(report), RunReportJson.Serialize(back));
        Assert.Equal(("default", "2025-11-28"), (back.Run!.Config, back.Run.Date));
        Assert.Equal(("Test CPU", 2), (back.Run.Machine!.Cpu, back.Run.Machine.Cores));
        Assert.Equal(["avx2", "avx512bw"], back.Run.Machine.Flags!);
        Assert.Equal(100_000_000, back.Variant("teacher")!.FileBytes);
        Assert.Equal(0.57, back.Variant("student")!.Metric("wordnet_retrieval", "r10"));
        Assert.Null(back.Variant("student_int8")!.Metric("spam_f1", "f1"));
        Assert.Null(back.Variant("baseline")!.LatencyMs);
        Assert.Equal(TargetComparison.AtMost, back.Targets![1].Comparison);
        Assert.Equal(report.Distillation, back.Distillation);
        Assert.Equal(report.Notes, back.Notes);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void NamesOnDiskAreSnakeCaseAndVariantsAreTopLevel()
    {
        string json = RunReportJson.Serialize(ReportFixtures.HandMade());
        foreach (string name in new[] { "\"teacher\": {", "\"student_int8\": {", "\"file_bytes\"", "\"latency_ms\"", "\"p50\"",
                     "\"sequences_per_s\"", "\"wordnet_retrieval\"", "\"cache_hits\"", "\"skipped_steps\"", "\"comparison\": \"at_most\"" })
            Assert.Contains(name, json);
        Assert.DoesNotContain("Variants", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("is_met", json); // computed, not stored
    }

    [Fact]
    public void ReadsTheDesignDocExampleWithMissingFields()
    {
        // The report.json example of /work/shared/DESIGN.md "CLI contract", plus a variant with nulls.
        const string json = """
            { "teacher": { "params": 22713216, "file_bytes": 90868224,
                           "quality": { "wordnet_retrieval": { "r1": 0.41, "r10": 0.63, "mrr": 0.49 },
                                        "spam_f1": { "f1": 0.92, "accuracy": 0.95 } },
                           "latency_ms": { "p50": 9.1, "p99": 11.0 },
                           "throughput": { "sequences_per_s": 110.0 } },
              "student": { "params": 11000000, "file_bytes": null, "quality": { "spam_f1": { "f1": null } },
                           "latency_ms": null },
              "notes": [ "first run" ] }
            """;
        var report = RunReportJson.Parse(json);
        Assert.Equal(["teacher", "student"], report.Variants.Keys);
        Assert.Equal(22713216, report.Variant("teacher")!.Params);
        Assert.Equal(0.63, report.Variant("teacher")!.Metric("wordnet_retrieval", "r10"));
        Assert.Equal(110.0, report.Variant("teacher")!.Throughput!.SequencesPerS);
        Assert.Null(report.Variant("student")!.FileBytes);
        Assert.Null(report.Variant("student")!.Metric("spam_f1", "f1"));
        Assert.Null(report.Variant("student")!.Metric("wordnet_retrieval", "r10"));
        Assert.Null(report.Run);
        Assert.Equal(["first run"], report.Notes);
    }

    [Fact]
    public void TargetMetAndMarginAreDerivedWhenNotGiven()
    {
        var atLeast = new TargetResult { Name = "q", Goal = 0.9, Measured = 0.95 };
        var atMost = new TargetResult { Name = "p50", Goal = 1.5, Measured = 2.0, Comparison = TargetComparison.AtMost };
        Assert.True(atLeast.IsMet);
        Assert.Equal(0.05, atLeast.Margin!.Value, 12);
        Assert.False(atMost.IsMet);
        Assert.Equal(-0.5, atMost.Margin!.Value, 12);
        Assert.False((atLeast with { Met = false }).IsMet); // an explicit verdict wins
        Assert.Null(new TargetResult { Name = "x", Goal = 1 }.IsMet);
    }

    [Fact]
    public void MalformedFilesNameTheFileAndTheProblem()
    {
        string path = Path.Combine(_dir, "report.json");
        File.WriteAllText(path, "{ \"teacher\": { \"params\": 1, }\n  \"student\": ");
        var e = Assert.Throws<DistillSharpException>(() => RunReportJson.Load(path));
        Assert.Contains(path, e.Message);

        File.WriteAllText(path, "{ \"version\": 3 }");
        e = Assert.Throws<DistillSharpException>(() => RunReportJson.Load(path));
        Assert.Contains("'version' should be a model variant", e.Message);

        e = Assert.Throws<DistillSharpException>(() => RunReportJson.Load(Path.Combine(_dir, "absent.json")));
        Assert.Contains("absent.json", e.Message);
    }

    [Fact]
    public void AVariantMayNotUseAReservedName()
    {
        var report = new RunReport { Variants = new() { ["notes"] = new VariantReport() } };
        var e = Assert.Throws<ArgumentException>(() => RunReportJson.Serialize(report));
        Assert.Contains("'notes'", e.Message);
    }
}
