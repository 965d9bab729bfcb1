using DistillSharp.Models.Encoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models;

public class StudentBuilderTests
{
    [Fact]
    public void DefaultLayerMapSpreadsEvenlyAndEndsAtTheLastLayer()
    {
        Assert.Equal(new[] { 0, 2, 5 }, StudentBuilder.DefaultLayerMap(6, 3)); // round(2.5) = 2: banker's rounding
        Assert.Equal(new[] { 5 }, StudentBuilder.DefaultLayerMap(6, 1));
        Assert.Equal(new[] { 0, 5 }, StudentBuilder.DefaultLayerMap(6, 2));
    }

    [Fact]
    public void TeacherLayersAreCopiedExactly()
    {
        using var teacher = TinyModels.Encoder(config: TinyModels.Config(layers: 4));
        using var student = StudentBuilder.Build(teacher.Model, new StudentSpec(2, TeacherLayers: [1, 3]));
        var t = teacher.Model.state_dict();
        var s = student.state_dict();
        Assert.True(s["encoder.layer.0.attention.self.query.weight"].equal(t["encoder.layer.1.attention.self.query.weight"]).all().item<bool>());
        Assert.True(s["encoder.layer.1.output.LayerNorm.bias"].equal(t["encoder.layer.3.output.LayerNorm.bias"]).all().item<bool>());
        Assert.True(s["embeddings.word_embeddings.weight"].equal(t["embeddings.word_embeddings.weight"]).all().item<bool>());
        Assert.Equal(2, student.Config.NumHiddenLayers);
    }

    [Fact]
    public void ProjectionInitHasTheStudentShapesAndOrthonormalBasis()
    {
        using var teacher = TinyModels.Encoder(config: TinyModels.Config(layers: 2, hidden: 32, heads: 4, ffn: 64));
        var spec = new StudentSpec(1, Hidden: 16, Ffn: 32, Init: StudentInit.Projection);
        using var student = StudentBuilder.Build(teacher.Model, spec);
        Assert.Equal(16, student.Config.HiddenSize);
        Assert.Equal(2, student.Config.NumAttentionHeads); // keeps the teacher's head size 8
        var s = student.state_dict();
        Assert.Equal(new long[] { 32, 16 }, s["encoder.layer.0.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 16, 32 }, s["encoder.layer.0.output.dense.weight"].shape);

        var p = StudentBuilder.PrincipalProjection(teacher.Model.state_dict()["embeddings.word_embeddings.weight"], 16);
        Assert.True(allclose(p.matmul(p.t()), eye(16), atol: 1e-5));
        // The student's word embeddings are the teacher's projected onto the principal directions.
        Assert.True(allclose(s["embeddings.word_embeddings.weight"], teacher.Model.state_dict()["embeddings.word_embeddings.weight"].matmul(p.t()), atol: 1e-6));
        Assert.True(s["encoder.layer.0.output.LayerNorm.weight"].min().item<float>() > 0);
    }

    [Fact]
    public void TeacherLayerInitRefusesOtherWidths()
    {
        using var teacher = TinyModels.Encoder();
        var e = Assert.Throws<DistillSharpException>(() => StudentBuilder.Build(teacher.Model, new StudentSpec(1, Hidden: 16)));
        Assert.Contains("projection", e.Message);
        Assert.Throws<DistillSharpException>(() => StudentBuilder.Build(teacher.Model, new StudentSpec(2, TeacherLayers: [0, 9])));
    }
}
