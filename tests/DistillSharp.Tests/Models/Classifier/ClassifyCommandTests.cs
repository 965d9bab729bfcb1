using System.Text.Json;
using DistillSharp.Models.Classifier;
using DistillSharp.Quantization.Classifier;

namespace DistillSharp.Tests.Models.Classifier;

/// <summary>`distill classify` on the tiny classifier saved as a Hugging Face folder and as an INT8 folder.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ClassifyCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("classify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PrintsTopLabelsAsJsonMatchingTheModel()
    {
        using var classifier = TinyModels.Classifier(seed: 11);
        string hf = Path.Combine(_dir, "hf");
        ClassifierFolder.Save(classifier, hf);
        var (code, output, error) = CliHarness.Run("classify", "--model", hf, "--json", "--top", "2", "the cat sat", "a dog ran fast");
        Assert.True(code == 0, error);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        var probabilities = classifier.Probabilities(["the cat sat"])[0];
        int best = Array.IndexOf(probabilities, probabilities.Max());
        var first = rows[0].GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal(2, first.Count);
        Assert.Equal(TinyModels.Labels[best], first[0].GetProperty("label").GetString());
        Assert.Equal(probabilities[best], first[0].GetProperty("probability").GetDouble(), 6);
        Assert.False(rows[0].GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public void RunsTheInt8FolderAndReportsTruncation()
    {
        using var classifier = TinyModels.Classifier(seed: 12);
        string int8 = Path.Combine(_dir, "int8");
        using (var runtime = ClassifierToRuntime.Build(classifier, DistillSharp.Tests.Runtime.Int8ClassifierTests.Ptq(classifier))) runtime.Save(int8);
        string longText = string.Join(" ", Enumerable.Repeat("the big red dog", 20));    // 80 words > 32 tokens
        var (code, output, error) = CliHarness.Run("classify", "--model", int8, longText, "fish");
        Assert.True(code == 0, error);
        Assert.Contains("fish\n", output.Replace("\r", ""));
        Assert.Equal(2 * (1 + 3), output.Trim().Split('\n').Length);           // a line per text + its 3 labels
        Assert.Contains("note: 1 of 2 texts had more than 32 tokens and were truncated", error);
    }

    [Fact]
    public void NotAClassifierIsOneClearError()
    {
        using var encoder = TinyModels.Encoder();
        DistillSharp.Models.Encoder.HuggingFaceFolder.Save(encoder, _dir);
        var (code, _, error) = CliHarness.Run("classify", "--model", _dir, "hello");
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains("not a sequence classifier", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
