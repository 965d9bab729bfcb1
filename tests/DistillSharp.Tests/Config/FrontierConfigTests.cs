using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Tests.Config;

/// <summary><c>students:</c> and <c>select:</c>: binding, stage sharing, the round trip and every error's path.</summary>
public class FrontierConfigTests
{
    const string Head = "teacher: { source: builtin:all-MiniLM-L6-v2 }\neval: [ wordnet-retrieval ]\n";
    const string Stage = "stages:\n  - { name: a, steps: 3, losses: { embedding_cosine: 1 } }\n";

    static string Error(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse<RunConfig>(yaml)).Message;

    [Fact]
    public void StudentsShareTopLevelStagesOrBringTheirOwnAndRoundTrip()
    {
        var c = ConfigLoader.Parse<RunConfig>(Head + Stage + """
            students:
              - { name: s, student: { kind: static, dims: 64 } }
              - { name: l1, student: { layers: 1, teacher_layers: [5] } }
              - name: l2
                student: { layers: 2 }
                stages:
                  - { name: own, steps: 7, losses: { embedding_mse: 1 } }
            select: { max_latency_ms: 2.5 }
            """);
        var students = c.Students!;
        Assert.Equal(["s", "l1", "l2"], students.Select(s => s.Name));
        Assert.Empty(students[0].Stages);
        Assert.Equal(("a", 3L), (students[1].Stages.Single().Name, students[1].Stages.Single().Steps!.Value));
        Assert.Equal(("own", 7L), (students[2].Stages.Single().Name, students[2].Stages.Single().Steps!.Value));
        Assert.Equal(new SelectConfig("max_latency_ms", 2.5), c.Select);
        // The single-student view of an entry is that entry's student and stages, nothing else of the list.
        var view = c.ForStudent(students[2]);
        Assert.Equal((2, "own"), (view.Student.Layers, view.Stages.Single().Name));
        Assert.Null(view.Students);
        Assert.Null(view.Select);

        var again = ConfigLoader.Parse<RunConfig>(c.ToYaml());
        Assert.Equal(c.ToYaml(), again.ToYaml());
        Assert.Equal(students.Select(s => (s.Name, s.Student.Layers, s.Student.Kind, s.Stages.Count)),
            again.Students!.Select(s => (s.Name, s.Student.Layers, s.Student.Kind, s.Stages.Count)));
        Assert.Equal([5], again.Students![1].Student.TeacherLayers!);
        Assert.DoesNotContain("\nstudent:", c.ToYaml());
    }

    [Fact]
    public void TheSingleStudentKeyIsUnchanged()
    {
        var c = ConfigLoader.Parse<RunConfig>(Head + Stage + "student: { layers: 2 }\n");
        Assert.Null(c.Students);
        Assert.Null(c.Select);
        Assert.DoesNotContain("students:", c.ToYaml());
    }

    [Theory]
    [InlineData(Stage + "students: []\n", "students must list at least one student, got an empty list")]
    [InlineData(Stage + "students:\n  - { student: { layers: 1 } }\n", "students[0].name is required")]
    [InlineData(Stage + "students:\n  - { name: L1, student: { layers: 1 } }\n", "students[0].name must be 1–32 lower-case letters")]
    [InlineData(Stage + "students:\n  - { name: teacher, student: { layers: 1 } }\n", "students[0].name must be neither reserved (teacher, student, baseline")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\n  - { name: a_b, student: { layers: 2 } }\n", "students[1].name must be neither reserved")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\n  - { name: a, student: { layers: 2 } }\n", "students[1].name must be unique, got 'a' (also students[0].name)")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 0 } }\n", "students[0].student.layers must be >= 1, got 0")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 }, extra: 1 }\n", "students[0].extra: unknown key 'extra'")]
    [InlineData("students:\n  - { name: a, student: { layers: 1 } }\n", "stages is required")]
    [InlineData(Stage + "students:\n  - { name: a, student: { kind: static } }\n", "stages is used by no student")]
    [InlineData("students:\n  - { name: a, student: { kind: static }, stages: [] }\n", "students[0].stages must be absent")]
    [InlineData(Stage + "student: { layers: 1 }\nstudents:\n  - { name: a, student: { layers: 1 } }\n", "student must be absent when students: lists the students")]
    [InlineData(Stage + "student: { layers: 1 }\nselect: { min_quality: 0.9 }\n", "select needs a students: list")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: { min_quality: 0.9, max_bytes: 10 }\n", "select must give one constraint, got min_quality and max_bytes")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: {}\n", "select must give one constraint: min_quality, max_latency_ms, max_bytes")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: { min_speed: 2 }\n", "select.min_speed is not a select constraint")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: { min_quality: 1.5 }\n", "select.min_quality must be a fraction of the teacher's quality in (0, 1], got 1.5")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: { min_quality: 0 }\n", "select.min_quality must be a fraction")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: { max_latency_ms: -1 }\n", "select.max_latency_ms must be milliseconds > 0, got -1")]
    [InlineData(Stage + "students:\n  - { name: a, student: { layers: 1 } }\nselect: { max_bytes: 0.5 }\n", "select.max_bytes must be bytes >= 1, got 0.5")]
    public void ErrorsNameThePath(string body, string expected) => Assert.StartsWith(expected, Error(Head + body));

    [Fact]
    public void SelectingNeedsARetrievalTask()
    {
        string yaml = "teacher: { source: builtin:all-MiniLM-L6-v2 }\neval: [ spam-f1 ]\n" + Stage +
                      "students:\n  - { name: a, student: { layers: 1 } }\nselect: { min_quality: 0.9 }\n";
        Assert.StartsWith("select needs a retrieval task in eval:", Error(yaml));
    }
}
