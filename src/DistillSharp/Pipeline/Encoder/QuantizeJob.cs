using System.Text.Json;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Distillation;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>What `distill quantize` does.</summary>
/// <param name="Model">builtin:NAME, a Hugging Face folder or a run folder.</param>
/// <param name="OutDir">Folder for the INT8 model (<see cref="Int8EncoderFile"/> layout) and the reports.</param>
/// <param name="Observer">Activation observer (static mode; with QAT it calibrates the starting ranges).</param>
/// <param name="CalibBatches">Calibration batches of <paramref name="BatchSize"/> training texts.</param>
/// <param name="Mode">"static" or "dynamic" activations (QAT: static).</param>
/// <param name="Scheme">"symmetric" or "asymmetric" activations.</param>
/// <param name="Qat">Quantization-aware training (teacher losses embedding_cosine + embedding_mse) before export.</param>
/// <param name="QatSteps">QAT optimizer steps.</param>
/// <param name="QatLr">QAT learning rate.</param>
/// <param name="LearnRanges">"ema" or "lsq".</param>
/// <param name="Teacher">The teacher that guides QAT.</param>
/// <param name="FallbackTolerance">Keep the worst layers in fp32 until the metric's relative drop is ≤ this; null = no fallback.</param>
/// <param name="FallbackMetric">"output-cosine" (mean cosine to the fp32 embeddings) or TASK.METRIC of an evaluation task.</param>
/// <param name="Corpus">Training-side corpus (as <c>data.corpus</c>): calibration, QAT and measurement texts; never evaluation data.</param>
/// <param name="MaxLength">Tokens per text.</param>
/// <param name="BatchSize">Calibration and measurement batch size.</param>
/// <param name="QatBatch">QAT batch size.</param>
/// <param name="Seed">QAT seed (data order).</param>
/// <param name="MeasureTexts">Texts after the calibration ones on which output error and sensitivity are measured.</param>
public sealed record QuantizeJobOptions(string Model, string OutDir, string Observer = "percentile", int CalibBatches = 8,
    string Mode = "static", string Scheme = "symmetric", bool Qat = false, int QatSteps = 150, double QatLr = 2e-5,
    string LearnRanges = "ema", string Teacher = "builtin:all-MiniLM-L6-v2", double? FallbackTolerance = null,
    string FallbackMetric = "output-cosine", string Corpus = "wordnet+mail", int MaxLength = 64, int BatchSize = 16,
    int MeasureTexts = 128, int QatBatch = 32, int Seed = 7);

/// <summary>What a quantization job produced.</summary>
public sealed record QuantizeJobResult(QuantizedModel Quantized, SensitivityReport Sensitivity, IReadOnlyList<string> Fp32Layers,
    double OutputRelError, double OutputSqnrDb, long Int8Bytes, long Fp32Bytes)
{
    /// <summary>INT8 folder bytes / fp32 weight bytes.</summary>
    public double SizeRatio => (double)Int8Bytes / Fp32Bytes;
}

/// <summary>
/// `distill quantize` as a library call: post-training quantization (or QAT guided by the teacher)
/// of a sentence encoder, per-layer sensitivity (output SQNR, relative error), optional fp32
/// fallback of the worst layers, and the INT8 folder with sensitivity.json/.md and quantize.json.
/// </summary>
public static class QuantizeJob
{
    /// <summary>Runs the job on <paramref name="encoder"/> (changed in place by QAT) with training texts <paramref name="corpus"/>.</summary>
    public static QuantizeJobResult Run(QuantizeJobOptions o, SentenceEncoder encoder, IReadOnlyList<string> corpus, TextWriter log,
        Func<Func<IReadOnlyList<string>, float[][]>, IReadOnlyList<string>, double>? taskMetric = null)
    {
        var config = Config(o);
        int calibCount = o.CalibBatches * o.BatchSize;
        if (corpus.Count < calibCount + o.MeasureTexts)
            throw new DistillSharpException($"the corpus has {corpus.Count} texts; calibration ({o.CalibBatches} × {o.BatchSize}) and measurement ({o.MeasureTexts}) need {calibCount + o.MeasureTexts}");
        var calibration = corpus.Take(calibCount).ToList();
        var measure = corpus.Skip(calibCount).Take(o.MeasureTexts).ToList();
        encoder.Model.eval();
        var fp32Embeddings = encoder.Embed(measure);
        QuantizedModel quantized = o.Qat ? TrainQat(o, config, encoder, corpus, log) : EncoderQuantizer.Quantize(encoder, config, calibration, o.BatchSize);
        log.WriteLine($"quantized {quantized.Layers.Count} layers ({quantized.Mode}, observer {quantized.Observer})");

        var sensitivity = Sensitivity(encoder, quantized, measure, o.BatchSize);
        var fp32Layers = new List<string>();
        if (o.FallbackTolerance is double tolerance)
        {
            Func<IReadOnlyList<string>, float[][]> Embedder(IReadOnlySet<string> keep) => texts => EncoderQuantizer.Simulated(encoder, Without(quantized, keep)).Embed(texts);
            Func<Func<IReadOnlyList<string>, float[][]>, double> metric = o.FallbackMetric == "output-cosine"
                ? embed => MeanCosine(embed(measure), fp32Embeddings)
                : embed => (taskMetric ?? throw new DistillSharpException($"fallback metric '{o.FallbackMetric}' needs evaluation data"))(embed, measure);
            double reference = metric(texts => encoder.Embed(texts));
            var (layers, reached) = PrecisionFallback.SelectFp32Layers(sensitivity, keep => metric(Embedder(keep)), reference, tolerance * Math.Abs(reference));
            fp32Layers.AddRange(layers);
            log.WriteLine($"fallback: {layers.Count} layer(s) kept in fp32; {o.FallbackMetric} {reached:F4} (fp32 {reference:F4})");
            quantized = Without(quantized, layers.ToHashSet());
        }

        var embeddings = EncoderQuantizer.Simulated(encoder, quantized).Embed(measure);
        var (sqnr, rel) = Compare(fp32Embeddings, embeddings);
        Directory.CreateDirectory(o.OutDir);
        // The folder as the INT8 runtime holds the model by default: int8 Linears and int8 word embeddings.
        Int8EncoderFile.Save(EncoderToRuntime.Weights(encoder, quantized).WithInt8WordEmbeddings(), o.OutDir);
        long int8Bytes = Int8EncoderFile.Bytes(o.OutDir);
        long fp32Bytes = encoder.Model.state_dict().Sum(kv => kv.Value.numel()) * 4;
        var result = new QuantizeJobResult(quantized, sensitivity, fp32Layers, rel, sqnr, int8Bytes, fp32Bytes);
        Write(o, result);
        return result;
    }

    /// <summary>The <c>quantize:</c> settings the options describe.</summary>
    public static QuantizeConfig Config(QuantizeJobOptions o) => new QuantizeConfig
    {
        Observer = o.Observer, Mode = o.Qat ? "static" : o.Mode, Scheme = o.Scheme, CalibBatches = o.CalibBatches, Qat = o.Qat,
    }.Validate("quantize");

    static QuantizedModel TrainQat(QuantizeJobOptions o, QuantizeConfig quantize, SentenceEncoder student, IReadOnlyList<string> corpus, TextWriter log)
    {
        using var teacher = ModelLoader.Load(o.Teacher, o.MaxLength);
        LossSpec Loss(string name) => new(name, 1.0, LossRegistry.Get(name).Settings());
        var run = new RunConfig
        {
            Teacher = new TeacherConfig(o.Teacher),
            Student = new StudentConfig(student.Model.Config.NumHiddenLayers, student.Model.Config.HiddenSize),
            Data = new DataConfig("job", o.MaxLength, o.QatBatch),
            Stages = [new StageConfig
            {
                Name = "qat", Steps = o.QatSteps, Losses = [Loss("embedding_cosine"), Loss("embedding_mse")],
                Optimizer = new OptimizerConfig(Lr: o.QatLr, Beta2: 0.98), Schedule = new ScheduleConfig("cosine", 0.06),
                ClipGradNorm = 1.0, LogEvery = 10,
                Qat = new QatConfig(o.LearnRanges, o.Observer, o.LearnRanges == "ema" ? o.QatSteps * 2 / 3 : null, CalibBatches: o.CalibBatches),
            }],
            Quantize = new Dictionary<string, object?> { ["mode"] = "static", ["scheme"] = o.Scheme, ["observer"] = o.Observer },
            Seed = o.Seed,
        };
        string runDir = Path.Combine(o.OutDir, "qat-run");
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        log.WriteLine($"QAT: {o.QatSteps} steps, lr {o.QatLr}, ranges {o.LearnRanges} from observer {o.Observer}, teacher {o.Teacher}");
        var result = new Distiller(run.DistillPlan(), teacher, student, corpus, new DistillerOptions(runDir)).Run();
        student.Model.eval();
        return QuantizedModelFile.Load(result.Artifact!);
    }

    static SensitivityReport Sensitivity(SentenceEncoder encoder, QuantizedModel quantized, IReadOnlyList<string> texts, int batchSize)
    {
        var batches = texts.Chunk(batchSize).Select(c => EncoderQuantizer.Pack(encoder.Tokenizer.EncodeBatch(c))).ToList();
        try
        {
            return SensitivityAnalyzer.Analyze(encoder.Model, quantized, batches, (_, packed) => encoder.Model.Forward(packed[0], packed[1]).LastHiddenState);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    static QuantizedModel Without(QuantizedModel q, IReadOnlySet<string> fp32) =>
        q with { Layers = q.Layers.Where(kv => !fp32.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value) };

    /// <summary>Output SQNR (dB) and relative error ‖ŷ − y‖ / ‖y‖ of embeddings <paramref name="actual"/> against <paramref name="reference"/>.</summary>
    public static (double SqnrDb, double RelError) Compare(float[][] reference, float[][] actual)
    {
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
            for (int j = 0; j < reference[i].Length; j++)
            {
                double r = reference[i][j], d = r - actual[i][j];
                (signal, noise) = (signal + r * r, noise + d * d);
            }
        return (noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise), Math.Sqrt(noise / signal));
    }

    static double MeanCosine(float[][] a, float[][] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < a[i].Length; j++) (dot, na, nb) = (dot + a[i][j] * b[i][j], na + a[i][j] * a[i][j], nb + b[i][j] * b[i][j]);
            sum += dot / Math.Sqrt(na * nb + 1e-30);
        }
        return sum / a.Length;
    }

    static void Write(QuantizeJobOptions o, QuantizeJobResult r)
    {
        var json = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(o.OutDir, "sensitivity.json"), JsonSerializer.Serialize(r.Sensitivity.Rows.Select(row =>
            new { layer = row.Name, sqnr_db = Finite(row.SqnrDb), rel_error = row.RelError }), json));
        File.WriteAllText(Path.Combine(o.OutDir, "sensitivity.md"),
            $"# Per-layer quantization sensitivity\n\nEach layer quantized alone (the others fp32); model output (last hidden state) against fp32 on {o.MeasureTexts} training-side texts.\n\n" +
            r.Sensitivity.ToMarkdown());
        File.WriteAllText(Path.Combine(o.OutDir, "quantize.json"), JsonSerializer.Serialize(new
        {
            model = o.Model, observer = r.Quantized.Observer, mode = r.Quantized.Mode.ToString().ToLowerInvariant(), qat = o.Qat,
            qat_steps = o.Qat ? o.QatSteps : 0, layers_int8 = r.Quantized.Layers.Count, layers_fp32 = r.Fp32Layers,
            output_rel_error = r.OutputRelError, output_sqnr_db = Finite(r.OutputSqnrDb),
            int8_bytes = r.Int8Bytes, fp32_bytes = r.Fp32Bytes, size_ratio = r.SizeRatio,
        }, json));
    }

    static double? Finite(double v) => double.IsFinite(v) ? v : null;
}
