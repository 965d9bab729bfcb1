using DistillSharp.Models.Classifier;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Classifier;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Pipeline;

/// <summary>The student and baseline_ce start from the same weights, from the base encoder or from the fine-tuned teacher.</summary>
public sealed class ClassifyStudentInitTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("cls-init-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    [Theory]
    [InlineData("base")]
    [InlineData("teacher")]
    public void StudentAndBaselineStartEqual(string from)
    {
        string encoderDir = Path.Combine(_dir, "encoder");
        using (var encoder = TinyModels.Encoder(seed: 2, TinyModels.Config(layers: 2))) HuggingFaceFolder.Save(encoder, encoderDir);
        var config = ClassifyPipelineSmokeTests.Config(Path.Combine(_dir, "unused.csv"), encoderDir) with { StudentFrom = from };
        // A "fine-tuned" teacher: the base encoder's shape with other weights and a trained-looking head.
        using var teacher = TinyModels.Classifier(seed: 9, TinyModels.Config(layers: 2));
        var spec = config.Student.ToSpec(config.Dropout);
        using var student = ClassifyPipeline.NewStudent(config, teacher, spec, "student");
        using var baseline = ClassifyPipeline.NewStudent(config, teacher, spec, "baseline_ce");
        var s = student.Model.state_dict();
        var b = baseline.Model.state_dict();
        Assert.Equal(s.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in s) Assert.True(Same(t, b[name]), name);

        // Layer 0 of the student is layer 1 (teacher_layers: [1]) of the model `from` names; so is the head when it is the teacher.
        var t0 = teacher.Model.state_dict();
        const string layer = "bert.encoder.layer.0.attention.self.query.weight", source = "bert.encoder.layer.1.attention.self.query.weight";
        Assert.Equal(from == "teacher", Same(s[layer], t0[source]));
        Assert.Equal(from == "teacher", Same(s["classifier.weight"], t0["classifier.weight"]));
        if (from == "base")
        {
            using var encoder = ModelLoader.Load(encoderDir, 32);
            Assert.True(Same(s[layer], encoder.Model.state_dict()["encoder.layer.1.attention.self.query.weight"]));
        }
    }
}
