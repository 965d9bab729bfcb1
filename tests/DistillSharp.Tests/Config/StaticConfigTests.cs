using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;
using DistillSharp.Models.Static;

namespace DistillSharp.Tests.Config;

/// <summary><c>student: { kind: static }</c>: binding, errors and the round trip.</summary>
public class StaticConfigTests
{
    const string Head = "teacher: { source: builtin:all-MiniLM-L6-v2 }\n";

    static string Error(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse<RunConfig>(yaml)).Message;

    [Fact]
    public void AStaticStudentBindsWithoutStagesAndRoundTrips()
    {
        var c = ConfigLoader.Parse<RunConfig>(Head + "student: { kind: static, dims: 128, sif_coefficient: 0.001 }\n");
        Assert.True(c.Student.IsStatic);
        Assert.Equal((128, 0.001), (c.Student.Dims, c.Student.SifCoefficient));
        Assert.Empty(c.Stages);
        var again = ConfigLoader.Parse<RunConfig>(c.ToYaml());
        Assert.Equal(c.Student, again.Student);
        Assert.Equal(c.ToYaml(), again.ToYaml());
        var options = c.Student.ToStaticOptions(64);
        Assert.Equal((128, 0.001, 64), (options.Dims, options.SifCoefficient, options.MaxLength));
        Assert.Equal(256, ConfigLoader.Parse<RunConfig>(Head + "student: { kind: static }\n").Student.Dims);
    }

    [Fact]
    public void TrainIsOptionalAndRoundTrips()
    {
        Assert.Null(ConfigLoader.Parse<RunConfig>(Head + "student: { kind: static }\n").Student.Train);
        var c = ConfigLoader.Parse<RunConfig>(Head + "student: { kind: static, train: { steps: 50, lr: 0.1, batch: 8, texts: 300, contrastive: 0.5 } }\n");
        Assert.Equal(new StaticTrainOptions(50, 0.1, 8, 300, 0.5), c.Student.Train);
        Assert.Equal(c.Student.Train, c.Student.ToStaticOptions().Train);
        Assert.Equal(c.ToYaml(), ConfigLoader.Parse<RunConfig>(c.ToYaml()).ToYaml());
        Assert.Equal(new StaticTrainOptions(), ConfigLoader.Parse<RunConfig>(Head + "student: { kind: static, train: {} }\n").Student.Train);
    }

    [Fact]
    public void TransformerStudentsStillNeedStagesAndDefaultToTheirKind()
    {
        Assert.StartsWith("stages is required", Error(Head + "student: { layers: 2 }\n"));
        var c = ConfigLoader.Parse<RunConfig>(Head + "student: { kind: transformer, layers: 2 }\nstages:\n  - { name: a, steps: 1, losses: { kl: 1 } }\n");
        Assert.False(c.Student.IsStatic);
        Assert.Equal(2, c.Student.Layers);
    }

    [Theory]
    [InlineData("student: { kind: static, layers: 2 }\n", "student.layers: unknown key 'layers'")]
    [InlineData("student: { kind: static, dims: 0 }\n", "student.dims must be >= 1, got 0")]
    [InlineData("student: { kind: static, sif_coefficient: 1 }\n", "student.sif_coefficient must be in [0, 1), got 1")]
    [InlineData("student: { kind: static, train: { steps: 0 } }\n", "student.train.steps must be >= 1, got 0")]
    [InlineData("student: { kind: static, train: { lr: 0 } }\n", "student.train.lr must be > 0, got 0")]
    [InlineData("student: { kind: static, train: { epochs: 2 } }\n", "student.train.epochs: unknown key 'epochs'")]
    [InlineData("student: { kind: bag }\n", "student.kind must be one of transformer, static, got 'bag'")]
    [InlineData("student: { kind: static }\nstages:\n  - { name: a, steps: 1, losses: { kl: 1 } }\n",
        "stages must be absent: a static student is built from the teacher, not trained (or use student.kind: transformer)")]
    public void ErrorsNameThePath(string body, string expected) => Assert.StartsWith(expected, Error(Head + body));
}
