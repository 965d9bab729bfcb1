using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Formats;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation;

/// <summary>Where a run is: enough to continue exactly.</summary>
/// <param name="GlobalStep">Optimizer steps done over all stages.</param>
/// <param name="Stage">Index of the stage in progress (or the next one, when <paramref name="StageStep"/> = its total).</param>
/// <param name="StageStep">Optimizer steps done in that stage.</param>
/// <param name="Epoch">Data position: epoch …</param>
/// <param name="Batch">… and next batch within it.</param>
/// <param name="SkippedSteps">Steps skipped for a non-finite loss or gradient, so far.</param>
public sealed record TrainingState(long GlobalStep, int Stage, int StageStep, int Epoch, int Batch, int SkippedSteps);

/// <summary>
/// A checkpoint folder <c>checkpoints/step-NNNNNNNN/</c> holding the student (safetensors), the
/// loss terms' own parameters, the optimizer (TorchSharp's format), the torch RNG state and
/// <see cref="TrainingState"/>. It is written under a temporary name and renamed when complete,
/// and <c>checkpoints/latest</c> (written atomically) names it, so a kill at any moment leaves
/// the previous checkpoint intact and findable. <c>manifest.json</c> records the size and SHA-256 of
/// each binary file, so <see cref="ReadState"/> finds a torn or altered file before any model loads.
/// </summary>
public static partial class DistillCheckpoint
{
    const string StateFile = "state.json", StudentFile = "student.safetensors", TermsFile = "loss_terms.safetensors",
        OptimizerFile = "optimizer.bin", RngFile = "rng.bin", ManifestFile = "manifest.json";

    static readonly string[] Verified = [StudentFile, TermsFile, OptimizerFile, RngFile];

    /// <summary>Writes a checkpoint and points <c>latest</c> at it; keeps the newest <paramref name="keep"/>.</summary>
    public static string Save(string runDir, TrainingState state, nn.Module student, IReadOnlyDictionary<string, nn.Module> terms,
        optim.Optimizer optimizer, int keep = 2)
    {
        string root = Path.Combine(runDir, "checkpoints");
        string name = $"step-{state.GlobalStep:D8}";
        string final = Path.Combine(root, name);
        string temp = final + ".tmp-" + Guid.NewGuid().ToString("N")[..6];
        Directory.CreateDirectory(temp);
        try
        {
            Safetensors.Write(Path.Combine(temp, StudentFile), student.state_dict().ToDictionary(kv => kv.Key, kv => TorchSafetensors.FromTensor(kv.Value)));
            var termTensors = new Dictionary<string, SafeTensor>();
            foreach (var (termName, term) in terms)
                foreach (var (key, t) in term.state_dict()) termTensors[termName + "/" + key] = TorchSafetensors.FromTensor(t);
            Safetensors.Write(Path.Combine(temp, TermsFile), termTensors);
            SaveOptimizer(optimizer, Path.Combine(temp, OptimizerFile));
            using (var rng = get_rng_state()) File.WriteAllBytes(Path.Combine(temp, RngFile), rng.bytes.ToArray());
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
            WriteManifest(temp);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
        AtomicFile.WriteText(Path.Combine(root, "latest"), name);
        foreach (string old in Directory.GetDirectories(root, "step-*").Where(d => !d.Contains(".tmp-")).OrderByDescending(d => d, StringComparer.Ordinal).Skip(keep))
            Directory.Delete(old, recursive: true);
        foreach (string stale in Directory.GetDirectories(root, "step-*.tmp-*")) Directory.Delete(stale, recursive: true);
        return final;
    }

    /// <summary>
    /// The newest complete checkpoint of a run, or null. <c>latest</c> is followed only when it names a
    /// complete <c>step-NNNNNNNN</c> folder beside it; a missing, torn or hostile pointer (<c>../..</c>)
    /// falls back to the newest complete step folder, so it can neither hide an intact checkpoint
    /// nor lead outside the run folder.
    /// </summary>
    public static string? Latest(string runDir)
    {
        string root = Path.Combine(runDir, "checkpoints");
        if (!Directory.Exists(root)) return null;
        string pointer = Path.Combine(root, "latest");
        var info = new FileInfo(pointer);
        if (info.Exists && info.LinkTarget is null && info.Length is > 0 and < 64)
        {
            string name = File.ReadAllText(pointer).Trim();
            if (StepName().IsMatch(name) && Complete(Path.Combine(root, name))) return Path.Combine(root, name);
        }
        return Directory.GetDirectories(root, "step-*").Where(d => StepName().IsMatch(Path.GetFileName(d)) && Complete(d))
            .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault();
    }

    [GeneratedRegex(@"^step-[0-9]{8}$")]
    private static partial Regex StepName();

    // A checkpoint folder is complete once renamed from its temporary name; state.json is written last inside it.
    static bool Complete(string dir) => Directory.Exists(dir) && new FileInfo(dir).LinkTarget is null && File.Exists(Path.Combine(dir, StateFile));

    /// <summary>
    /// Reads the training state of a checkpoint and checks it against the run's stages
    /// (<paramref name="stageSteps"/>: each stage's step count; null checks the counts only): every count non-negative, the stage
    /// one of the run's, its step within the stage, the global step the sum of the steps before it,
    /// and the other files of the checkpoint present. A checkpoint of another config is refused here.
    /// </summary>
    public static TrainingState ReadState(string checkpoint, IReadOnlyList<int>? stageSteps = null)
    {
        string path = Path.Combine(checkpoint, StateFile);
        TrainingState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainingState>(InputFile.ReadText(path, InputFile.ConfigBytes, StateFile), StrictJson)
                ?? throw new DistillSharpException($"{path}: empty training state");
        }
        catch (JsonException e)
        {
            string at = e.Path is { Length: > 1 } p ? $" at {p}" : "";
            throw new DistillSharpException($"{path}: corrupt training state{at} ({e.Message.Split(" Path:")[0].Trim()})");
        }
        if (state.GlobalStep < 0 || state.Stage < 0 || state.StageStep < 0 || state.Epoch < 0 || state.Batch < 0 || state.SkippedSteps < 0)
            throw new DistillSharpException($"{path}: negative counts in {Describe(state)}");
        foreach (string f in new[] { StudentFile, TermsFile, OptimizerFile, RngFile })
            if (!File.Exists(Path.Combine(checkpoint, f))) throw new DistillSharpException($"{Path.Combine(checkpoint, f)}: missing from the checkpoint");
        VerifyManifest(checkpoint);
        RngBytes(checkpoint);
        if (stageSteps is not null)
        {
            if (state.Stage >= stageSteps.Count || state.StageStep > stageSteps[state.Stage])
                throw new DistillSharpException($"{path}: {Describe(state)} does not fit this run's stages (steps {string.Join(", ", stageSteps)}); " +
                                                "resume with the config the run was started with");
            long before = stageSteps.Take(state.Stage).Sum(s => (long)s);
            if (state.GlobalStep != before + state.StageStep || state.SkippedSteps > state.GlobalStep)
                throw new DistillSharpException($"{path}: {Describe(state)} is inconsistent: global step must be {before + state.StageStep} " +
                                                "(the steps of the stages before plus the stage step) and skipped steps at most the global step");
        }
        return state;
    }

    static void WriteManifest(string dir)
    {
        var files = new JsonObject();
        foreach (string f in Verified)
        {
            string path = Path.Combine(dir, f);
            files[f] = new JsonObject { ["bytes"] = new FileInfo(path).Length, ["sha256"] = Sha256(path) };
        }
        File.WriteAllText(Path.Combine(dir, ManifestFile), new JsonObject { ["files"] = files }.ToJsonString());
    }

    // Sizes first (a torn file is found by a stat), then contents; a checkpoint written before
    // manifests existed has none and is checked by its loaders alone.
    static void VerifyManifest(string checkpoint)
    {
        string path = Path.Combine(checkpoint, ManifestFile);
        if (!File.Exists(path)) return;
        var expected = new Dictionary<string, (long Bytes, string Sha)>();
        try
        {
            var files = InputFile.ReadJsonObject(path, ManifestFile)["files"]?.AsObject()
                ?? throw new DistillSharpException($"{path}: no \"files\" object");
            foreach (string f in Verified)
            {
                var entry = files[f]?.AsObject() ?? throw new DistillSharpException($"{path}: no entry for {f}");
                expected[f] = (entry["bytes"]!.GetValue<long>(), entry["sha256"]!.GetValue<string>());
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new DistillSharpException($"{path}: corrupt checkpoint manifest ({e.Message.Split('\n')[0].Trim()})");
        }
        foreach (var (f, (bytes, _)) in expected)
        {
            long actual = new FileInfo(Path.Combine(checkpoint, f)).Length;
            if (actual != bytes)
                throw new DistillSharpException($"{Path.Combine(checkpoint, f)}: {actual} bytes, but the checkpoint wrote {bytes}: torn or changed; " +
                                                "delete this step folder to resume from the one before");
        }
        foreach (var (f, (_, sha)) in expected)
            if (!string.Equals(Sha256(Path.Combine(checkpoint, f)), sha, StringComparison.OrdinalIgnoreCase))
                throw new DistillSharpException($"{Path.Combine(checkpoint, f)}: contents differ from what the checkpoint wrote (SHA-256); " +
                                                "delete this step folder to resume from the one before");
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static readonly JsonSerializerOptions StrictJson = new()
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
    };

    static string Describe(TrainingState s) =>
        $"global step {s.GlobalStep}, stage {s.Stage} step {s.StageStep}, epoch {s.Epoch} batch {s.Batch}, skipped {s.SkippedSteps}";

    /// <summary>Loads the student weights of a checkpoint (strict: names and shapes must match).</summary>
    public static void LoadStudent(string checkpoint, nn.Module student)
    {
        string path = Path.Combine(checkpoint, StudentFile);
        StateDict.Load(student, Safetensors.Read(path).Tensors, path);
    }

    /// <summary>Loads loss-term parameters, optimizer state and the RNG, in that order (the RNG last).</summary>
    public static void LoadTraining(string checkpoint, IReadOnlyDictionary<string, nn.Module> terms, optim.Optimizer optimizer)
    {
        string termsPath = Path.Combine(checkpoint, TermsFile);
        var stored = Safetensors.Read(termsPath).Tensors;
        foreach (var (termName, term) in terms)
        {
            string prefix = termName + "/";
            var own = stored.Where(kv => kv.Key.StartsWith(prefix)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            StateDict.Load(term, own, $"{termsPath} ({termName})");
        }
        LoadOptimizer(optimizer, Path.Combine(checkpoint, OptimizerFile));
        LoadRng(checkpoint);
    }

    /// <summary>
    /// Restores the torch RNG of a checkpoint. Its size must be the generator's own (libtorch aborts
    /// the process on a state of another size instead of throwing).
    /// </summary>
    public static void LoadRng(string checkpoint)
    {
        using var state = tensor(RngBytes(checkpoint));
        set_rng_state(state);
    }

    static byte[] RngBytes(string checkpoint)
    {
        string path = Path.Combine(checkpoint, RngFile);
        long expected;
        using (var current = get_rng_state()) expected = current.NumberOfElements;
        long length = InputFile.Check(path, expected, "torch RNG state");
        if (length != expected)
            throw new DistillSharpException($"{path}: {length:N0} bytes, but the torch generator's state is {expected:N0} bytes (torn or not an RNG state)");
        return InputFile.ReadBytes(path, expected, "torch RNG state");
    }

    static void SaveOptimizer(optim.Optimizer optimizer, string path)
    {
        switch (optimizer)
        {
            case AdamW adamw: adamw.save_state_dict(path); break;
            default: throw new InvalidOperationException($"cannot checkpoint optimizer {optimizer.GetType().Name}");
        }
    }

    static void LoadOptimizer(optim.Optimizer optimizer, string path)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"{path}: optimizer state missing from the checkpoint");
        InputFile.Check(path, long.MaxValue, "checkpoint optimizer state");
        if (optimizer is not AdamW adamw) throw new InvalidOperationException($"cannot restore optimizer {optimizer.GetType().Name}");
        try
        {
            adamw.load_state_dict(path);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new DistillSharpException($"{path}: unreadable optimizer state ({e.Message.Split('\n')[0].Trim()}); the checkpoint is torn or from another config");
        }
    }
}
