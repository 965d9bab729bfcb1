using System.Diagnostics;
using System.Text.Json;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.FaultInjection;

/// <summary>What one disk-full or read-only trial found.</summary>
sealed record StorageResult(string Kind, string Case, long LimitBytes, int ExitCode, string ErrorLine, bool OneLine, bool LastCheckpointIntact,
    IReadOnlyList<string> HalfWritten, bool ResumedIdentical, string? Problem);

/// <summary>
/// Runs on a small tmpfs (mounted here; needs root): a disk that fills up part-way through a run,
/// and a run folder that turns read-only before --resume. Each must end with exit code 2 and one
/// error line, leave the last complete checkpoint loadable, and leave no file under its final name
/// that is cut short; after the space or the write permission is back, --resume must finish with
/// the uninterrupted run's bytes.
/// </summary>
sealed class StorageTrial(RunKind kind, string work, string cacheRoot, string referenceDir)
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>Bytes of the uninterrupted run's folder.</summary>
    public long ReferenceBytes => new DirectoryInfo(referenceDir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>A disk of <paramref name="fraction"/> of the reference run's size.</summary>
    public StorageResult DiskFull(int trial, double fraction)
    {
        string mount = Path.Combine(work, $"{kind.Name}-full-{trial:D2}");
        long limit = Math.Max(64 << 10, (long)(ReferenceBytes * fraction)) / 4096 * 4096;
        Mount(mount, $"size={limit}");
        try
        {
            string runDir = Path.Combine(mount, "run");
            var (code, output) = Run(["run", kind.Config, "--out", runDir]);
            var result = Inspect($"disk full at {fraction:P0}", limit, code, output, runDir);
            Sh("mount", "-o", $"remount,size={ReferenceBytes * 4}", mount);
            return result with { ResumedIdentical = code == 0 ? Identical(runDir) : Resume(runDir) };
        }
        finally
        {
            Unmount(mount);
        }
    }

    /// <summary>A run stopped at <paramref name="steps"/>, its folder remounted read-only, then --resume.</summary>
    public StorageResult ReadOnly(int trial, int steps)
    {
        string mount = Path.Combine(work, $"{kind.Name}-ro-{trial:D2}");
        Mount(mount, $"size={ReferenceBytes * 4}");
        try
        {
            string runDir = Path.Combine(mount, "run");
            var (first, firstOutput) = Run(["run", kind.Config, "--out", runDir, "--max-steps", steps.ToString()]);
            if (first != 0) return new(kind.Name, $"read-only after {steps} steps", 0, first, Last(firstOutput), false, false, [], false, "the --max-steps run failed");
            Sh("mount", "-o", "remount,ro", mount);
            var (code, output) = Run(["run", kind.Config, "--out", runDir, "--resume"]);
            var result = Inspect($"read-only after {steps} steps", 0, code, output, runDir);
            Sh("mount", "-o", "remount,rw", mount);
            return result with { ResumedIdentical = Resume(runDir) };
        }
        finally
        {
            Unmount(mount);
        }
    }

    StorageResult Inspect(string name, long limit, int code, string output, string runDir)
    {
        var errors = output.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        bool trace = output.Contains("   at ", StringComparison.Ordinal) || output.Contains("Unhandled exception", StringComparison.Ordinal);
        var half = HalfWritten(runDir);
        bool intact = LatestCheckpointIntact(runDir);
        string? problem = code == 0 ? null
            : code != 2 ? $"exit code {code}, expected 2"
            : trace ? "a stack trace" : errors.Count != 1 ? $"{errors.Count} error lines" : !intact ? "the last checkpoint is damaged"
            : half.Count > 0 ? "half-written files under final names" : null;
        return new(kind.Name, name, limit, code, errors.FirstOrDefault() ?? "", errors.Count == 1 && !trace, intact, half, false, problem);
    }

    // --resume until done (the disk has room again), then the bytes are compared with the uninterrupted run.
    bool Resume(string runDir)
    {
        for (int attempt = 0; attempt < 2; attempt++)
            if (Run(["run", kind.Config, "--out", runDir, "--resume"]).Code == 0) return Identical(runDir);
        return false;
    }

    bool Identical(string runDir) => kind.Compared.All(f =>
        File.Exists(Path.Combine(runDir, f)) && File.ReadAllBytes(Path.Combine(runDir, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(referenceDir, f))));

    // The checkpoint `latest` names (if any) has every file and each safetensors file is whole: the run
    // folder's own (encoder runs) and each LM phase's (phases/NAME/checkpoints).
    static bool LatestCheckpointIntact(string runDir)
    {
        string phases = Path.Combine(runDir, "phases");
        return CheckpointIntact(runDir) && (!Directory.Exists(phases) || Directory.GetDirectories(phases).All(CheckpointIntact));
    }

    static bool CheckpointIntact(string runDir)
    {
        string pointer = Path.Combine(runDir, "checkpoints", "latest");
        if (!File.Exists(pointer)) return !Directory.Exists(Path.Combine(runDir, "checkpoints")) || !Directory.GetDirectories(Path.Combine(runDir, "checkpoints"), "step-????????").Any();
        string dir = Path.Combine(runDir, "checkpoints", File.ReadAllText(pointer).Trim());
        if (!File.Exists(Path.Combine(dir, "state.json"))) return false;
        try
        {
            JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state.json"))).Dispose();
            foreach (string f in Directory.GetFiles(dir, "*.safetensors")) SafetensorsHeader.Read(f);
            return File.Exists(Path.Combine(dir, "optimizer.bin")) && File.Exists(Path.Combine(dir, "rng.bin"));
        }
        catch (Exception e) when (e is DistillSharpException or JsonException or IOException)
        {
            return false;
        }
    }

    // Files under their final names (not *.tmp-*) that do not parse whole: safetensors, JSON, ONNX.
    static List<string> HalfWritten(string runDir)
    {
        var bad = new List<string>();
        if (!Directory.Exists(runDir)) return bad;
        foreach (string f in Directory.EnumerateFiles(runDir, "*", SearchOption.AllDirectories).Where(f => !f.Contains(".tmp-")))
        {
            try
            {
                switch (Path.GetExtension(f))
                {
                    case ".safetensors": SafetensorsHeader.Read(f); break;
                    case ".json": JsonDocument.Parse(File.ReadAllText(f)).Dispose(); break;
                    case ".onnx": OnnxModelFile.Read(f); break;
                }
            }
            catch (Exception e) when (e is DistillSharpException or JsonException or IOException)
            {
                bad.Add(Path.GetRelativePath(runDir, f));
            }
        }
        return bad;
    }

    (int Code, string Output) Run(string[] args)
    {
        using var child = new ChildRun(args, cacheRoot);
        return (child.Wait(Timeout) ?? -1, child.Output);
    }

    static string Last(string output) => output.Trim().Split('\n').LastOrDefault() ?? "";

    static void Mount(string dir, string options)
    {
        Directory.CreateDirectory(dir);
        Sh("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir);
    }

    static void Unmount(string dir)
    {
        Sh("umount", dir);
        Directory.Delete(dir, recursive: true);
    }

    static void Sh(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{command} {string.Join(' ', args)}: {error.Trim()}");
    }
}
