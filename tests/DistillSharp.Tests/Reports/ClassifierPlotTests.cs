using DistillSharp.Reports.Plots;

namespace DistillSharp.Tests.Reports;

/// <summary>The classification plots render to PNG files.</summary>
public sealed class ClassifierPlotTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("cls-plots-").FullName;

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("DISTILLSHARP_KEEP_PLOTS") is null) Directory.Delete(_dir, recursive: true);
    }

    static bool IsPng(string path) => File.ReadAllBytes(path).Take(8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });

    [Theory]
    [InlineData(3)]
    [InlineData(41)]
    public void ConfusionMatrixRenders(int classes)
    {
        var labels = Enumerable.Range(0, classes).Select(i => $"class.{i}").ToArray();
        var confusion = new long[classes, classes];
        for (int a = 0; a < classes; a++)
            for (int p = 0; p < classes; p++) confusion[a, p] = a == p ? 20 + a : (a + p) % 7 == 0 ? 3 : 0;
        string path = Path.Combine(_dir, $"confusion_{classes}.png");
        ConfusionMatrixPlot.Write(labels, confusion, "Confusion matrix: student", path);
        Assert.True(IsPng(path));
        Assert.Throws<ArgumentException>(() => ConfusionMatrixPlot.Write(labels.Skip(1).ToArray(), confusion, "x", path));
    }

    [Fact]
    public void ReliabilityDiagramRenders()
    {
        string path = Path.Combine(_dir, "reliability.png");
        Assert.True(ReliabilityPlot.Write([
            new("teacher", [0.35, 0.55, 0.75, 0.95], [0.3, 0.5, 0.72, 0.97], 0.021),
            new("student", [0.4, 0.6, 0.8, 0.97], [0.3, 0.45, 0.7, 0.9], 0.083),
        ], path));
        Assert.True(IsPng(path));
        Assert.False(ReliabilityPlot.Write([new("empty", [], [], 0)], Path.Combine(_dir, "none.png")));
    }
}
