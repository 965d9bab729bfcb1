using DistillSharp.Distillation;

namespace DistillSharp.Tests.Distillation;

/// <summary>
/// <c>checkpoints/latest</c> is a hint, not a path: it is followed only to a complete step folder beside
/// it, and a torn, hostile or stale pointer falls back to the newest complete step folder.
/// </summary>
public sealed class CheckpointPointerTests : IDisposable
{
    readonly string _run = Directory.CreateTempSubdirectory("distill-latest-").FullName;
    string Root => Path.Combine(_run, "checkpoints");

    string Step(int n, bool complete = true)
    {
        string dir = Path.Combine(Root, $"step-{n:D8}");
        Directory.CreateDirectory(dir);
        if (complete) File.WriteAllText(Path.Combine(dir, "state.json"), "{}");
        return dir;
    }

    void Pointer(string text) => File.WriteAllText(Path.Combine(Root, "latest"), text);

    [Fact]
    public void NoCheckpointsFolderIsNoCheckpoint() => Assert.Null(DistillCheckpoint.Latest(_run));

    [Fact]
    public void AValidPointerIsFollowed()
    {
        string older = Step(10);
        Step(20);
        Pointer("step-00000010\n");
        Assert.Equal(older, DistillCheckpoint.Latest(_run));
    }

    [Theory]
    [InlineData("../../..")]
    [InlineData("/etc")]
    [InlineData("step-00000099")]
    [InlineData("step-00000030")]
    [InlineData("\u0001garbage")]
    [InlineData("")]
    public void ABadPointerFallsBackToTheNewestCompleteStep(string pointer)
    {
        Step(10);
        string newest = Step(20);
        Step(30, complete: false);
        Directory.CreateDirectory(Path.Combine(Root, "step-00000040.tmp-abcdef"));
        File.WriteAllText(Path.Combine(Root, "step-00000040.tmp-abcdef", "state.json"), "{}");
        Pointer(pointer);
        Assert.Equal(newest, DistillCheckpoint.Latest(_run));
    }

    [Fact]
    public void AMissingPointerFallsBackToo()
    {
        string only = Step(5);
        Assert.Equal(only, DistillCheckpoint.Latest(_run));
    }

    [Fact]
    public void AStepFolderThatIsALinkIsNotFollowed()
    {
        string outside = Directory.CreateTempSubdirectory("distill-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "state.json"), "{}");
            Directory.CreateDirectory(Root);
            Directory.CreateSymbolicLink(Path.Combine(Root, "step-00000050"), outside);
            Pointer("step-00000050");
            Assert.Null(DistillCheckpoint.Latest(_run));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    public void Dispose() => Directory.Delete(_run, recursive: true);
}
