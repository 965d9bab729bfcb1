using DistillSharp.Reports;

namespace DistillSharp.Tests.Reports;

public sealed class MetricsTableTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("metricstable-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadsWhatTheDistillerWrites()
    {
        string path = Path.Combine(_dir, "metrics.jsonl");
        ReportFixtures.WriteMetrics(path);
        var table = MetricsTable.TryLoad(path)!;

        Assert.Equal(16, table.Count);                       // 80 steps logged every 5
        Assert.Equal(0, table.BadLines);
        Assert.Equal(["loss/hidden_mse", "loss/embedding_cosine", "loss/kl", "loss/task_ce"], table.LossTermKeys);
        Assert.Equal([0, 1, 2], table.ActivationLayers);
        var (steps, losses) = table.Series("loss");
        Assert.Equal(15, steps.Length);                      // step 45's NaN loss was written as null and is left out
        Assert.DoesNotContain(45.0, steps);
        Assert.Equal([20.0, 40.0, 60.0, 80.0], table.Series("act/2/absmax").Steps);
        Assert.Equal([new StageSpan("align", 0, 60), new StageSpan("task", 60, 80)], table.Stages());
    }

    [Fact]
    public void StageStartComesFromStageStepAndRepeatedNamesRestart()
    {
        // Logged every 10 steps: stage "a" covers 1–20; its second run starts after step 20 (stage_step restarts).
        string path = Path.Combine(_dir, "metrics.jsonl");
        File.WriteAllLines(path,
        [
            """{"step": 10, "stage": "a", "stage_step": 10, "loss": 1}""",
            """{"step": 20, "stage": "a", "stage_step": 20, "loss": 1}""",
            """{"step": 30, "stage": "a", "stage_step": 10, "loss": 1}""",
        ]);
        Assert.Equal([new StageSpan("a", 0, 20), new StageSpan("a", 20, 30)], MetricsTable.TryLoad(path)!.Stages());
    }

    [Fact]
    public void TornAndForeignLinesAreSkippedAndCounted()
    {
        string path = Path.Combine(_dir, "metrics.jsonl");
        File.WriteAllText(path, "{\"step\": 1, \"loss\": 2.0}\n\n[1, 2]\n{\"loss\": 3}\n{\"step\": 2, \"lo");
        var table = MetricsTable.TryLoad(path)!;
        Assert.Equal(1, table.Count);
        Assert.Equal(3, table.BadLines);
        Assert.Equal(2.0, table.Last("loss"));
        Assert.Null(table.Last("grad_norm"));
    }

    [Fact]
    public void MissingFileIsNull() => Assert.Null(MetricsTable.TryLoad(Path.Combine(_dir, "nothing.jsonl")));
}
