using DistillSharp.Config.Classifier;
using DistillSharp.Models.Classifier;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Classifier;

namespace DistillSharp.Tests.Pipeline;

/// <summary>`distill finetune`: the teacher phase alone, written as an HF classifier folder, cached for the next call and for `distill run`.</summary>
public sealed class ClassifyFineTuneTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("cls-finetune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    ClassifyRunConfig Config()
    {
        string csv = ClassifyPipelineSmokeTests.WriteCsv(_dir, 90);
        string encoderDir = Path.Combine(_dir, "encoder");
        if (!Directory.Exists(encoderDir))
            using (var encoder = TinyModels.Encoder(seed: 3)) HuggingFaceFolder.Save(encoder, encoderDir);
        return ClassifyPipelineSmokeTests.Config(csv, encoderDir);
    }

    ClassifyRunOptions Options(StringWriter log) => new(null, null, log, "finetune-test", CacheRoot: Path.Combine(_dir, "cache"));

    [Fact]
    public void WritesTheTeacherFolderAndReusesTheCache()
    {
        var config = Config();
        var log = new StringWriter();
        var first = ClassifyPipeline.FineTune(config, Path.Combine(_dir, "teacher-a"), Options(log));
        Assert.False(first.Cached);
        Assert.True(ClassifierFolder.IsClassifierFolder(first.Folder));
        using (var loaded = ClassifierFolder.Load(first.Folder))
            Assert.Equal(["animal", "thing", "action"], loaded.Labels);
        Assert.InRange(first.TestMacroF1, 0, 1);

        var second = ClassifyPipeline.FineTune(config, Path.Combine(_dir, "teacher-b"), Options(log));
        Assert.True(second.Cached);
        Assert.Equal(first.CacheFolder, second.CacheFolder);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first.Folder, "model.safetensors")), File.ReadAllBytes(Path.Combine(second.Folder, "model.safetensors")));
        Assert.Equal(first.TestMacroF1, second.TestMacroF1);
    }

    [Fact]
    public void RefusesAnOccupiedFolderAndAGivenTeacher()
    {
        var config = Config();
        string occupied = Directory.CreateDirectory(Path.Combine(_dir, "occupied")).FullName;
        File.WriteAllText(Path.Combine(occupied, "config.json"), "{}");
        var e = Assert.Throws<DistillSharpException>(() => ClassifyPipeline.FineTune(config, occupied, Options(new StringWriter())));
        Assert.Contains("already holds a model", e.Message);
        var given = config with { Teacher = new ClassifyTeacherConfig("some/folder", null, null) };
        e = Assert.Throws<DistillSharpException>(() => ClassifyPipeline.FineTune(given, Path.Combine(_dir, "x"), Options(new StringWriter())));
        Assert.Contains("needs a config with teacher.base", e.Message);
    }
}
