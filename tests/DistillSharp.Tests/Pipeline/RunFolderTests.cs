using DistillSharp.Pipeline;

namespace DistillSharp.Tests.Pipeline;

/// <summary>Opening a run folder for a new run and for --resume (the rules both run kinds share).</summary>
public sealed class RunFolderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("distill-runfolder-").FullName;
    string Yaml => Path.Combine(_dir, RunFolder.ConfigFile);

    [Fact]
    public void ANewRunWritesItsConfig()
    {
        Assert.False(RunFolder.Open(_dir, "seed: 1\n", resume: false, holdsRun: false));
        Assert.Equal("seed: 1\n", File.ReadAllText(Yaml));
    }

    [Fact]
    public void ANewRunRefusesAFolderThatHoldsOne()
    {
        var e = Assert.Throws<DistillSharpException>(() => RunFolder.Open(_dir, "seed: 1\n", resume: false, holdsRun: true));
        Assert.Contains("already holds a run", e.Message);
    }

    [Fact]
    public void ResumeWithTheSameConfigContinuesAndKeepsTheFile()
    {
        File.WriteAllText(Yaml, "seed: 1\r\nsteps: 2\n");
        Assert.True(RunFolder.Open(_dir, "seed: 1\nsteps: 2\n\n", resume: true, holdsRun: true));
        Assert.Equal("seed: 1\r\nsteps: 2\n", File.ReadAllText(Yaml));
    }

    [Fact]
    public void ResumeWithAnotherConfigNamesTheFirstDifferenceAndLeavesTheFile()
    {
        File.WriteAllText(Yaml, "seed: 1\nsteps: 2\n");
        var e = Assert.Throws<DistillSharpException>(() => RunFolder.Open(_dir, "seed: 1\nsteps: 3\n", resume: true, holdsRun: true));
        Assert.Contains("line 2: the run has 'steps: 2', this config 'steps: 3'", e.Message);
        Assert.Equal("seed: 1\nsteps: 2\n", File.ReadAllText(Yaml));
    }

    [Fact]
    public void ResumeOfARunKilledBeforeItsConfigWasWrittenStartsIt()
    {
        Assert.True(RunFolder.Open(_dir, "seed: 1\n", resume: true, holdsRun: false));
        Assert.Equal("seed: 1\n", File.ReadAllText(Yaml));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
