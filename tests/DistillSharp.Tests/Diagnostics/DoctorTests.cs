using DistillSharp.Pipeline;

namespace DistillSharp.Tests.Diagnostics;

[Collection(ProcessEnvironmentCollection.Name)]
public class DoctorTests
{
    [Fact]
    public void ReportsWorkingRuntimesAndFetchCommandsForWhatIsMissing()
    {
        var checks = Doctor.Run();
        Assert.Equal(CheckStatus.Ok, checks.Single(c => c.Name == "libtorch").Status);
        Assert.Equal(CheckStatus.Ok, checks.Single(c => c.Name == "ONNX Runtime").Status);
        Assert.DoesNotContain(checks, c => c.Status == CheckStatus.Error);
        Assert.All(checks.Where(c => c.Status == CheckStatus.NotFetched), c => Assert.StartsWith("distill fetch ", c.Fix));
    }

    [Fact]
    public void MissingNuGetCacheShowsTeachersAsNotFetched()
    {
        string? saved = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        Environment.SetEnvironmentVariable("NUGET_PACKAGES", Path.Combine(Path.GetTempPath(), "no-such-nuget-" + Guid.NewGuid()));
        try
        {
            var teachers = Doctor.Run().Where(c => c.Section == "teachers").ToList();
            Assert.NotEmpty(teachers);
            // The build copies teacher assemblies next to ours; only without that copy do they count as missing.
            Assert.All(teachers, c => Assert.True(
                c.Status == CheckStatus.Ok && c.Detail.StartsWith(AppContext.BaseDirectory) || c.Status == CheckStatus.NotFetched));
        }
        finally
        {
            Environment.SetEnvironmentVariable("NUGET_PACKAGES", saved);
        }
    }
}
