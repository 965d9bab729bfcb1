using System.Text.Json;
using System.Text.Json.Serialization;
using DistillSharp.Runtime.Formats;
using DistillSharp.Benchmarks.Decoder;

namespace DistillSharp.Reports.Decoder;

/// <summary>
/// report.json of an LM run: what ran (phases with their step times), and per model variant
/// (teacher, student, scratch, student_int8 when a runtime exists) size, memory, held-out perplexity,
/// prefill/decode speed and samples. Keys are snake_case on disk.
/// </summary>
public sealed record LmReport
{
    /// <summary>Config path, start time, threads, --max-steps.</summary>
    public required LmRunInfo Run { get; init; }

    /// <summary>Phases in the order they ran.</summary>
    public required IReadOnlyList<LmPhaseReport> Phases { get; init; }

    /// <summary>Model variants by name: teacher, student, scratch, …</summary>
    public required Dictionary<string, LmModelReport> Models { get; init; }

    /// <summary>The sequence-level KD dataset, when that phase ran.</summary>
    public LmSeqKdReport? SeqKd { get; init; }

    /// <summary>The token-level KD settings and its teacher cache, when that phase ran.</summary>
    public LmKdReport? Kd { get; init; }

    /// <summary>Remarks printed at the end of report.md.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes the report atomically.</summary>
    public void Save(string path) => AtomicFile.WriteText(path, JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads a report written by <see cref="Save"/>.</summary>
    public static LmReport Load(string path) =>
        JsonSerializer.Deserialize<LmReport>(File.ReadAllText(path), Json) ?? throw new DistillSharpException($"{path} is not an LM report");
}

/// <summary>Which config ran, when, how long, with how many threads.</summary>
public sealed record LmRunInfo(string Config, string Started, double Seconds, int Threads, long? MaxSteps, string RunDir, string? TeacherCache);

/// <summary>
/// One phase: steps done, wall time, seconds per step, last logged loss, and the process's CPU time
/// in the phase (with one thread, CPU seconds per step is what the step costs on a quiet core even
/// when the machine is shared).
/// </summary>
public sealed record LmPhaseReport(string Name, long Steps, double Seconds, double? SecondsPerStep, double? FinalLoss, bool Cached = false,
    double? CpuSeconds = null)
{
    /// <summary>CPU seconds per step, when measured.</summary>
    public double? CpuSecondsPerStep => CpuSeconds is double c && Steps > 0 ? Math.Round(c / Steps, 4) : null;
}

/// <summary>Wall and process CPU time since a phase started.</summary>
public sealed class PhaseClock
{
    readonly System.Diagnostics.Stopwatch _wall = System.Diagnostics.Stopwatch.StartNew();
    readonly TimeSpan _cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>Starts timing now.</summary>
    public static PhaseClock Start() => new();

    /// <summary>Wall seconds so far.</summary>
    public double Seconds => _wall.Elapsed.TotalSeconds;

    /// <summary>The phase's report row.</summary>
    public LmPhaseReport Report(string name, long steps, double? finalLoss = null, bool cached = false)
    {
        double cpu = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _cpu).TotalSeconds;
        return new LmPhaseReport(name, steps, Math.Round(Seconds, 2), steps > 0 ? Math.Round(Seconds / steps, 4) : null,
            finalLoss is double l && double.IsFinite(l) ? Math.Round(l, 4) : null, cached, Math.Round(cpu, 2));
    }
}

/// <summary>One model variant.</summary>
public sealed record LmModelReport
{
    /// <summary>Number of parameters (tied embeddings counted once).</summary>
    public long Params { get; init; }

    /// <summary>Bytes of the parameters in memory (fp32 = 4 per parameter).</summary>
    public long ParamBytes { get; init; }

    /// <summary>Bytes of the saved weights on disk (*.safetensors), when saved.</summary>
    public long? FileBytes { get; init; }

    /// <summary>Resident-set growth from loading the folder and running one prefill, in bytes (approximate: glibc and libtorch caches).</summary>
    public long? RssDeltaBytes { get; init; }

    /// <summary>Held-out perplexity (exp of the mean next-token NLL).</summary>
    public double? Perplexity { get; init; }

    /// <summary>Held-out tokens the perplexity was computed on.</summary>
    public long? HeldoutTokens { get; init; }

    /// <summary>Runtime that ran the benchmark.</summary>
    public string? Runtime { get; init; }

    /// <summary>Prefill/decode speed per batch size.</summary>
    public IReadOnlyList<DecoderSpeed>? Speed { get; init; }

    /// <summary>Continuations of the fixed prompts.</summary>
    public IReadOnlyList<LmSample>? Samples { get; init; }

    /// <summary>Where the model is (relative to the run folder, or an absolute cache path).</summary>
    public string? Folder { get; init; }

    /// <summary>Decode tokens/s at batch <paramref name="batch"/>, or null.</summary>
    public double? DecodeTokensPerSecond(int batch) => Speed?.FirstOrDefault(s => s.Batch == batch)?.DecodeTokensPerSecond;
}

/// <summary>A prompt and the model's continuation.</summary>
public sealed record LmSample(string Prompt, string Text);

/// <summary>The sequence-level KD dataset.</summary>
/// <param name="Examples">Prompt/response pairs written to seqkd.jsonl.</param>
/// <param name="ResponseTokens">Tokens the teacher generated.</param>
/// <param name="GenerateSeconds">Wall time of generation.</param>
/// <param name="File">The JSONL file, relative to the run folder.</param>
public sealed record LmSeqKdReport(int Examples, long ResponseTokens, double GenerateSeconds, string File);

/// <summary>Token-level KD settings and the sparse teacher cache.</summary>
public sealed record LmKdReport(string Loss, double Temperature, int TopK, double? CacheBytesPerToken);
