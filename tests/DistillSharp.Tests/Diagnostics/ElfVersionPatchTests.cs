using System.IO.Compression;
using DistillSharp.Build;
using DistillSharp.Diagnostics;

namespace DistillSharp.Tests.Diagnostics;

/// <summary>The patch is tested on the real, unpatched libLibTorchSharp.so taken from the TorchSharp package.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ElfVersionPatchTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("elfpatch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string ExtractOriginal()
    {
        string nupkg = Path.Combine(CachePaths.NuGetPackages, "torchsharp", "0.107.0", "torchsharp.0.107.0.nupkg");
        Assert.True(File.Exists(nupkg), "the TorchSharp package is restored with the solution: " + nupkg);
        using var zip = ZipFile.OpenRead(nupkg);
        string target = Path.Combine(_dir, "libLibTorchSharp.so");
        zip.GetEntry("runtimes/linux-x64/native/libLibTorchSharp.so")!.ExtractToFile(target);
        return target;
    }

    [Fact]
    public void OriginalRequiresGlibcxx3432Strongly()
    {
        string lib = ExtractOriginal();
        var reqs = ElfVersionPatch.ReadRequirements(File.ReadAllBytes(lib), lib);
        var req = Assert.Single(reqs, r => r.Version == TorchNative.MissingVersion);
        Assert.Equal("libstdc++.so.6", req.File);
        Assert.False(req.IsWeak);
        Assert.Contains(reqs, r => r.File == "libc.so.6" && r.Version == "GLIBC_2.2.5");
    }

    [Fact]
    public void ApplyFlipsExactlyOneFlagAndIsIdempotent()
    {
        string lib = ExtractOriginal();
        byte[] before = File.ReadAllBytes(lib);

        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatch.Apply(lib, "libstdc++.so.6", TorchNative.MissingVersion));
        byte[] after = File.ReadAllBytes(lib);
        Assert.Equal(before.Length, after.Length);
        int[] changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        var req = ElfVersionPatch.ReadRequirements(after, lib).Single(r => r.Version == TorchNative.MissingVersion);
        Assert.Equal(new[] { (int)req.FlagsOffset }, changed); // the low byte of vna_flags, nothing else
        Assert.True(req.IsWeak);
        Assert.All(ElfVersionPatch.ReadRequirements(after, lib).Where(r => r.Version != TorchNative.MissingVersion),
            r => Assert.False(r.IsWeak));

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatch.Apply(lib, "libstdc++.so.6", TorchNative.MissingVersion));
        Assert.Equal(after, File.ReadAllBytes(lib));
    }

    [Fact]
    public void LibraryWithoutTheRequirementIsLeftAlone()
    {
        string lib = ExtractOriginal();
        Assert.Equal(ElfPatchOutcome.NotNeeded, ElfVersionPatch.Apply(lib, "libstdc++.so.6", "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void NonElfInputNamesTheFile()
    {
        string path = Path.Combine(_dir, "not-elf.so");
        File.WriteAllText(path, "hello, this is not an ELF file at all, just some text padding it out to 64 bytes.");
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatch.Apply(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void SystemCheckAgreesWithTheSystemLibrary()
    {
        string? lib = ElfVersionPatch.FindSystemLibStdCxx();
        Assert.NotNull(lib);
        // Debian 12 (GCC 12) defines 3.4.30 but not 3.4.32; newer systems define both.
        Assert.True(ElfVersionPatch.DefinesVersion(lib!, "GLIBCXX_3.4.30"));
        Assert.Equal(!ElfVersionPatch.DefinesVersion(lib!, "GLIBCXX_3.4.32"), TorchNative.SystemNeedsPatch());
    }
}
