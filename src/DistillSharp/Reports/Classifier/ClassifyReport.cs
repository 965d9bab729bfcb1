using System.Text.Json;
using System.Text.Json.Serialization;
using DistillSharp.Reports.Decoder;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Reports.Classifier;

/// <summary>
/// report.json of a classification run: what ran (phases), the labelled data (class counts per
/// split, what was dropped or truncated, the leakage check), and per model variant (teacher,
/// student, student_int8, the ONNX Runtime rows, baseline_ce) size, test quality with intervals,
/// calibration, per-class F1, the confusion matrix and batch-1 latency / batch-N throughput measured
/// side by side. Keys are snake_case on disk.
/// </summary>
public sealed record ClassifyReport
{
    /// <summary>Config, start time, threads, --max-steps, load.</summary>
    public required ClassifyRunInfo Run { get; init; }

    /// <summary>The labelled data.</summary>
    public required ClassifyDataReport Data { get; init; }

    /// <summary>Phases in the order they ran.</summary>
    public required IReadOnlyList<LmPhaseReport> Phases { get; init; }

    /// <summary>Model variants by name.</summary>
    public required Dictionary<string, ClassifierVariantReport> Variants { get; init; }

    /// <summary>macro-F1(student) − macro-F1(baseline_ce) with its paired 95% bootstrap interval, when both ran.</summary>
    public PairedDifferenceReport? StudentVsBaseline { get; init; }

    /// <summary>How the latencies were measured (interleaved rounds, threads, sequence length).</summary>
    public string? BenchMethod { get; init; }

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
    public static ClassifyReport Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ClassifyReport>(File.ReadAllText(path), Json) ?? throw new DistillSharpException($"{path} is not a classification report");
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"{path}: not a classification report ({e.Message})");
        }
    }

    /// <summary>True when <paramref name="path"/> holds a classification report (its "data" has "labels").</summary>
    public static bool IsClassifyReport(string path)
    {
        if (!File.Exists(path)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("labels", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>Which config ran, when, how long, with how many threads, and the machine's load.</summary>
public sealed record ClassifyRunInfo(string Config, string Started, double Seconds, int Threads, long? MaxSteps, string RunDir, string? LoadAverage);

/// <summary>One label's examples per split.</summary>
public sealed record ClassCount(string Label, int Train, int Dev, int Test);

/// <summary>The labelled data of a run.</summary>
/// <param name="Source">Dataset name or file.</param>
/// <param name="Labels">Label names by class id.</param>
/// <param name="ClassCounts">Examples per label per split.</param>
/// <param name="MaxLength">Tokens the models accept; longer texts are truncated.</param>
/// <param name="Truncated">Texts longer than <paramref name="MaxLength"/> per split ("train", "dev", "test", "kd_corpus").</param>
/// <param name="KdCorpus">Texts the student was distilled on (labelled training texts and unlabelled ones).</param>
/// <param name="KdCorpusDropped">Unlabelled texts dropped because they equal a dev or test text.</param>
/// <param name="LeakageChecked">Training texts compared with every test text (none equal).</param>
/// <param name="Notes">How the data were built: dedupe, budget, split.</param>
public sealed record ClassifyDataReport(string Source, IReadOnlyList<string> Labels, IReadOnlyList<ClassCount> ClassCounts, int MaxLength,
    IReadOnlyDictionary<string, int> Truncated, int KdCorpus, int KdCorpusDropped, long LeakageChecked, IReadOnlyList<string> Notes);

/// <summary>One confidence bin (NaN values for an empty bin).</summary>
public sealed record ReliabilityBinReport(double Low, double High, int Count, double Confidence, double Accuracy);

/// <summary>One model variant.</summary>
public sealed record ClassifierVariantReport
{
    /// <summary>Parameters.</summary>
    public long? Params { get; init; }
    /// <summary>Bytes of the deployed files.</summary>
    public long? FileBytes { get; init; }
    /// <summary>"torchsharp-fp32", "distillsharp-int8", "onnxruntime-fp32", "onnxruntime-int8".</summary>
    public required string Runtime { get; init; }
    /// <summary>Where the model is, relative to the run folder (or an absolute cache path).</summary>
    public string? Folder { get; init; }
    /// <summary>accuracy, macro_f1 with their 95% intervals, ece, examples.</summary>
    public required IReadOnlyDictionary<string, double> Quality { get; init; }
    /// <summary>F1 per label.</summary>
    public required IReadOnlyDictionary<string, double> PerClassF1 { get; init; }
    /// <summary>confusion[actual][predicted].</summary>
    public required long[][] Confusion { get; init; }
    /// <summary>Reliability bins.</summary>
    public required IReadOnlyList<ReliabilityBinReport> Reliability { get; init; }
    /// <summary>Batch-1 latency p50/p90/p99 in ms.</summary>
    public IReadOnlyDictionary<string, double>? LatencyMs { get; init; }
    /// <summary>sequences_per_s at the throughput batch.</summary>
    public IReadOnlyDictionary<string, double>? Throughput { get; init; }

    /// <summary>A quality value, or null.</summary>
    public double? Metric(string name) => Quality.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A paired difference of macro-F1 and its 95% interval.</summary>
public sealed record PairedDifferenceReport(string Model, string Baseline, double Difference, double Low, double High);
