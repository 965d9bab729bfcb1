using System.Text.Json;
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
/// the previous checkpoint intact and findable.
/// </summary>
public static class DistillCheckpoint
{
    const string StateFile = "state.json", StudentFile = "student.safetensors", TermsFile = "loss_terms.safetensors",
        OptimizerFile = "optimizer.bin", RngFile = "rng.bin";

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

    /// <summary>The newest complete checkpoint of a run, or null.</summary>
    public static string? Latest(string runDir)
    {
        string pointer = Path.Combine(runDir, "checkpoints", "latest");
        if (!File.Exists(pointer)) return null;
        string dir = Path.Combine(runDir, "checkpoints", File.ReadAllText(pointer).Trim());
        return File.Exists(Path.Combine(dir, StateFile)) ? dir : null;
    }

    /// <summary>Reads the training state of a checkpoint.</summary>
    public static TrainingState ReadState(string checkpoint)
    {
        string path = Path.Combine(checkpoint, StateFile);
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path))
                ?? throw new DistillSharpException($"{path}: empty training state");
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"{path}: corrupt training state ({e.Message})");
        }
    }

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
        byte[] rng = File.ReadAllBytes(Path.Combine(checkpoint, RngFile));
        using var state = tensor(rng);
        set_rng_state(state);
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
        switch (optimizer)
        {
            case AdamW adamw: adamw.load_state_dict(path); break;
            default: throw new InvalidOperationException($"cannot restore optimizer {optimizer.GetType().Name}");
        }
    }
}
