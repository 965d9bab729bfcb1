using DistillSharp.Runtime.Decoder;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Reports.Decoder;
using DistillSharp.Config.Decoder;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>The run's teacher: where it lives, whether it came from the cache, and its pretraining phase.</summary>
/// <param name="Model">The teacher (eval mode; the caller disposes it).</param>
/// <param name="Folder">Its HF folder.</param>
/// <param name="Identity">Content key: the pretraining key, or a hash of the source folder's files.</param>
/// <param name="Phase">The pretraining phase (Cached = reused), null for a source: teacher.</param>
public sealed record LmTeacher(CausalLm Model, string Folder, string Identity, LmPhaseReport? Phase);

/// <summary>
/// Loads the configured teacher or pretrains one. A pretrained teacher is cached under
/// <c>&lt;cache root&gt;/lm-teachers/&lt;key&gt;/</c> (an HF folder plus metrics.jsonl) where the key
/// is a SHA-256 of the pretraining recipe, the --max-steps cap, the seed, the text and the
/// tokenizer files — any change to those trains a new teacher; the same recipe is reused by every
/// later run. Training happens in <c>&lt;key&gt;.partial/</c> (checkpointed, so a killed pretraining
/// resumes) and is renamed into place when done.
/// </summary>
public static class LmTeacherProvider
{
    /// <summary>Folder of cached pretrained teachers under a cache root (<see cref="CachePaths.Root"/> by default).</summary>
    public static string CacheDir(string cacheRoot) => Path.Combine(cacheRoot, "lm-teachers");

    /// <summary>The cache key of a pretraining recipe on this data and tokenizer.</summary>
    public static string PretrainKey(LmRunConfig config, long? maxSteps, LmRunData data, string tokenizerHash)
    {
        var recipe = config.Teacher.Pretrain ?? throw new ArgumentException("the config has no teacher.pretrain");
        string text = string.Join("\0", "distillsharp-lm-teacher-v1", JsonSerializer.Serialize(recipe), $"cap={maxSteps}",
            $"block={config.Data.Block}", $"batch={recipe.Train.BatchSize(config.Data)}", $"seed={config.Seed}", data.TextHash, tokenizerHash);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    /// <summary>The teacher folder a run would use without training anything; null when it must still be pretrained.</summary>
    public static string? CachedFolder(string cacheRoot, string key)
    {
        string dir = Path.Combine(CacheDir(cacheRoot), key);
        return File.Exists(Path.Combine(dir, "config.json")) ? dir : null;
    }

    /// <summary>
    /// Checks a source teacher without loading its weights (before the corpus loads): the folder,
    /// its config.json and its tokenizer.json must be readable and fit each other, and a GPT-2
    /// teacher's position table must hold the run's longest sequence (<paramref name="positions"/>).
    /// </summary>
    public static void CheckSource(string source, int positions)
    {
        string dir;
        try
        {
            dir = DecoderFolder.ResolveModelDir(source);
        }
        catch (DistillSharpException e)
        {
            throw new DistillSharpException($"teacher.source: {e.Message}", e);
        }
        var config = DecoderConfig.Load(Path.Combine(dir, "config.json"));
        if (!File.Exists(Path.Combine(dir, "tokenizer.json")))
            throw new DistillSharpException($"teacher.source {source} has no tokenizer.json; the LM pipeline trains students on the teacher's tokenizer");
        var tokenizer = DecoderTokenizer.Load(dir);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new DistillSharpException($"teacher.source {source}: tokenizer.json has {tokenizer.VocabSize:N0} ids but the embedding table only {config.VocabSize:N0} rows (vocab_size)");
        if (config.IsGpt2 && config.MaxPositions < positions)
            throw new DistillSharpException(
                $"teacher.source {source} is a GPT-2 model of n_positions {config.MaxPositions}, but the run feeds it sequences of up to {positions} tokens (data.block, seqkd prompt + new tokens, bench)");
    }

    /// <summary>Loads a source: teacher (its HF folder must hold a tokenizer).</summary>
    public static (LmTeacher Teacher, DecoderTokenizer Tokenizer) LoadSource(string source)
    {
        string dir = DecoderFolder.ResolveModelDir(source);
        var (model, tokenizer) = DecoderFolder.Load(dir);
        if (tokenizer is null)
        {
            model.Dispose();
            throw new DistillSharpException($"teacher.source {source} has no tokenizer.json; the LM pipeline trains students on the teacher's tokenizer");
        }
        model.eval();
        return (new LmTeacher(model, dir, "source-" + LmRunData.FolderHash(dir), null), tokenizer);
    }

    /// <summary>Returns the cached teacher of <paramref name="key"/> or pretrains it (next-token CE on the training blocks).</summary>
    public static LmTeacher Pretrained(LmRunConfig config, long? maxSteps, LmRunData data, string cacheRoot, string key,
        LmEtaTracker tracker, TextWriter log)
    {
        var recipe = config.Teacher.Pretrain!;
        string final = Path.Combine(CacheDir(cacheRoot), key);
        if (CachedFolder(cacheRoot, key) is { } cached)
        {
            log.WriteLine($"teacher: reusing the pretrained teacher {cached}");
            var (model, _) = DecoderFolder.Load(cached);
            model.eval();
            var metrics = Path.Combine(cached, "metrics.jsonl");
            var summary = File.Exists(Path.Combine(cached, "pretrain.json"))
                ? JsonSerializer.Deserialize<LmPhaseReport>(File.ReadAllText(Path.Combine(cached, "pretrain.json")))! with { Cached = true }
                : new LmPhaseReport("pretrain", 0, 0, null, null, Cached: true);
            return new LmTeacher(model, cached, key, summary);
        }
        string partial = final + ".partial";
        Directory.CreateDirectory(partial);
        var modelConfig = LmPhaseTrainer.ConfigFor(recipe.Shape, data.Tokenizer, LmPipeline.MaxPositions(config));
        var teacher = LmPhaseTrainer.Create(modelConfig, config.Seed);
        log.WriteLine($"teacher: pretraining {recipe.Shape.Layers} layers × {recipe.Shape.Hidden} ({teacher.ParameterCount:N0} parameters) "
            + $"for {LmPhaseTrainer.CappedSteps(recipe.Train, maxSteps)} steps on {data.TrainTokens:N0} training tokens → {final}");
        try
        {
            var batcher = data.TrainBatcher(config.Data.Block, recipe.Train.BatchSize(config.Data), config.Seed);
            var clock = PhaseClock.Start();
            var options = LmPhaseTrainer.Options("pretrain", recipe.Train, maxSteps, partial, tracker);
            var result = new LmTrainer(teacher, LmPhaseTrainer.Logits(teacher), batcher, options).Run();
            teacher.eval();
            DecoderFolder.Save(teacher, data.Tokenizer, partial);
            var phase = clock.Report("pretrain", result.GlobalStep, result.LastLoss);
            File.WriteAllText(Path.Combine(partial, "pretrain.json"), JsonSerializer.Serialize(phase));
            LmPhaseTrainer.DropCheckpoints(partial);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(partial, final);
            return new LmTeacher(teacher, final, key, phase);
        }
        catch
        {
            teacher.Dispose();
            throw;
        }
    }
}
