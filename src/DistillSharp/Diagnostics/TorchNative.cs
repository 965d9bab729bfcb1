using System.Runtime.InteropServices;
using DistillSharp.Build;

namespace DistillSharp.Diagnostics;

/// <summary>
/// Makes sure TorchSharp's native library can load before the first tensor is made. The build
/// already patches every copy it produces (build/TorchSharpNative.targets); this covers copies the
/// build never saw, such as a `dotnet tool install` or the <c>cpu/</c> folder TorchSharp fills
/// at first use.
/// </summary>
public static class TorchNative
{
    /// <summary>The requirement that Debian 12's libstdc++ cannot satisfy.</summary>
    public const string MissingVersion = "GLIBCXX_3.4.32";

    static readonly object Gate = new();
    static bool _done;

    /// <summary>Where TorchSharp looks for libLibTorchSharp.so next to this application.</summary>
    public static IEnumerable<string> CandidateFiles()
    {
        string baseDir = AppContext.BaseDirectory;
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        yield return Path.Combine(baseDir, "runtimes", rid, "native", "libLibTorchSharp.so");
        yield return Path.Combine(baseDir, "libLibTorchSharp.so");
        yield return Path.Combine(baseDir, "cpu", "libLibTorchSharp.so");
    }

    /// <summary>True when the system libstdc++ lacks <see cref="MissingVersion"/>.</summary>
    public static bool SystemNeedsPatch()
    {
        if (!OperatingSystem.IsLinux()) return false;
        string? lib = ElfVersionPatch.FindSystemLibStdCxx();
        return lib != null && !ElfVersionPatch.DefinesVersion(lib, MissingVersion);
    }

    /// <summary>Patches the copies next to the app if this system needs it. Safe to call often.</summary>
    public static void EnsureLoadable()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            if (!SystemNeedsPatch()) return;
            foreach (string file in CandidateFiles().Where(File.Exists))
            {
                try { ElfVersionPatch.Apply(file, "libstdc++.so.6", MissingVersion); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Read-only install: the load will fail with TorchSharp's own message, which
                    // `distill doctor` explains.
                }
            }
        }
    }
}
