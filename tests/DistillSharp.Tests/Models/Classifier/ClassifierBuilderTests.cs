using DistillSharp.Models.Classifier;
using DistillSharp.Models.Encoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models.Classifier;

/// <summary>Classifiers built on encoders and students built from classifier teachers.</summary>
public sealed class ClassifierBuilderTests
{
    [Fact]
    public void FromEncoderCopiesTheEncoderAndStartsTheHeadAsTransformers()
    {
        using var encoder = TinyModels.Encoder(seed: 5);
        using var classifier = ClassifierBuilder.FromEncoder(encoder, TinyModels.Labels, seed: 1);
        var source = encoder.Model.state_dict();
        foreach (var (name, t) in classifier.Model.Bert.state_dict())
            if (source.TryGetValue(name, out var s)) Assert.True(t.equal(s).all().item<bool>(), name);
        var head = classifier.Model.state_dict();
        Assert.Equal(0f, head["classifier.bias"].abs().max().item<float>());
        double std = head["classifier.weight"].std().item<float>();
        Assert.InRange(std, 0.01, 0.03);                                          // normal(0, 0.02), 96 draws
        // The same encoder output reaches the head: the first hidden states agree with the encoder's.
        var batch = encoder.Tokenizer.EncodeBatch(["the cat sat"]);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.True(allclose(encoder.Forward(batch).LastHiddenState, classifier.Forward(batch).LastHiddenState));
    }

    [Fact]
    public void SameWidthStudentCopiesTheHead()
    {
        using var teacher = TinyModels.Classifier(seed: 6, TinyModels.Config(layers: 4));
        using var student = ClassifierBuilder.Student(teacher, new StudentSpec(2, TeacherLayers: [0, 3]), seed: 1);
        var t = teacher.Model.state_dict();
        var s = student.Model.state_dict();
        foreach (string key in new[] { "classifier.weight", "classifier.bias", "bert.pooler.dense.weight" })
            Assert.True(s[key].equal(t[key]).all().item<bool>(), key);
        Assert.True(s["bert.encoder.layer.1.output.dense.weight"].equal(t["bert.encoder.layer.3.output.dense.weight"]).all().item<bool>());
        Assert.Equal(teacher.Labels, student.Labels);
    }

    [Fact]
    public void NarrowerStudentProjectsTheHead()
    {
        using var teacher = TinyModels.Classifier(seed: 7);
        using var student = ClassifierBuilder.Student(teacher, new StudentSpec(1, Hidden: 16, Heads: 2, Ffn: 32, Init: StudentInit.Projection), seed: 1);
        using var scope = NewDisposeScope();
        var t = teacher.Model.state_dict();
        var p = StudentBuilder.PrincipalProjection(t["bert.embeddings.word_embeddings.weight"], 16);
        Assert.True(allclose(student.Model.state_dict()["classifier.weight"], t["classifier.weight"].matmul(p.t()), 1e-6, 1e-6));
    }
}
