using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>What every student of a run shares: the options, the data, the teacher and its evaluation (evaluated once, its embeddings memoized) and the phases.</summary>
sealed record RunContext(RunOptions Options, RunData Data, SentenceEncoder Teacher, RunEvaluation Evaluation, RunPhases Phases);

/// <summary>
/// Where one transformer student's outputs go and what its report rows are called. The single
/// <c>student:</c> run is the slot named <c>student</c> in the run folder itself (rows student,
/// student_int8, baseline, student_onnxruntime, student_int8_onnxruntime); a <c>students:</c> entry
/// NAME writes to <c>students/NAME/</c> with rows NAME, NAME_int8, NAME_baseline, ….
/// </summary>
sealed record StudentSlot(string Name, string Dir, bool Single)
{
    public string Int8 => Name + "_int8";
    public string Baseline => Single ? "baseline" : Name + "_baseline";
    public string Onnx => Name + "_onnxruntime";
    public string Int8Onnx => Name + "_int8_onnxruntime";
    public string HfDir => Path.Combine(Dir, "student");
    public string Int8Dir => Path.Combine(Dir, Int8EncoderFile.RunSubfolder);
    public string Fp32OnnxPath => Path.Combine(Dir, "student.onnx");
    public string Int8OnnxPath => Path.Combine(Dir, "student-int8.onnx");

    /// <summary>The phase name, prefixed with the student's name in a multi-student run.</summary>
    public string Phase(string name) => Single ? name : $"{Name}: {name}";

    /// <summary>The phases of one transformer student, in order.</summary>
    public IEnumerable<string> Phases => new[] { "distill", "evaluate baseline", "evaluate student", "quantize", "evaluate onnxruntime" }.Select(Phase);
}

/// <summary>
/// One transformer student from initialisation to its report rows: build (and the untaught
/// baseline) → distillation → HF folder → evaluation → INT8 quantization → ONNX export → ONNX
/// Runtime rows. The single-student run and each entry of a <c>students:</c> list run this same code.
/// </summary>
static class TransformerStudentRun
{
    /// <summary>Whether the slot's folder holds a checkpoint that this config can resume from.</summary>
    public static bool CanResume(string dir, RunConfig config, RunOptions options)
    {
        var stageSteps = config.Stages.All(s => s.Steps is not null) ? config.Stages.Select(s => s.Steps!.Value).ToList() : null;
        bool resume = options.Resume && DistillCheckpoint.Latest(dir) is { } checkpoint && DistillCheckpoint.ReadState(checkpoint, stageSteps) is not null;
        if (options.Resume && !resume) options.Log.WriteLine($"{dir}: no checkpoint yet; distilling from step 0");
        return resume;
    }

    /// <summary>Trains and measures the student <paramref name="config"/> describes into <paramref name="variants"/>.</summary>
    public static TrainingResult Run(RunContext run, RunConfig config, StudentSlot slot, bool resume, IDictionary<string, VariantMeasurement> variants)
    {
        var (options, data, teacher, evaluation, phases) = run;
        var teacherEmbed = evaluation.TeacherEmbed;
        var log = options.Log;
        var quantizeConfig = QuantizeConfig.FromMap(config.Quantize.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()));
        var spec = config.Student.ToSpec(config.Dropout);
        using var student = new SentenceEncoder(StudentBuilder.Build(teacher.Model, spec, config.Seed), teacher.Tokenizer, teacher.Pooling, teacher.Normalize, slot.Name);
        using var baseline = new SentenceEncoder(StudentBuilder.Build(teacher.Model, spec, config.Seed), teacher.Tokenizer, teacher.Pooling, teacher.Normalize, slot.Baseline);
        log.WriteLine($"teacher {teacher.Source} (distillation forward: {config.Teacher.Engine}): {RunPipeline.Params(teacher.Model):N0} parameters; " +
                      $"{slot.Name} {spec.Layers} layers × {student.Model.Config.HiddenSize}: {RunPipeline.Params(student.Model):N0}");
        Directory.CreateDirectory(slot.Dir);

        TrainingResult distill = null!;
        phases.Run(slot.Phase("distill"), () => distill = new Distiller(config.DistillPlan(), teacher, student, data.Corpus, new DistillerOptions(
            slot.Dir, options.MaxSteps, resume, CachePaths.TeacherCache, Progress: p =>
            {
                phases.Eta.ReportRemaining(p.EtaSeconds);
                phases.Detail = $"{p.Stage} {p.StageStep}/{p.StageSteps} loss {p.Loss:F4}";
                options.Progress?.Invoke(p);
            }, TeacherEngine: (t, outputs) => TeacherEngines.Create(config.Teacher.Engine, t, get_num_threads(), outputs))).Run());
        student.Model.eval();

        HuggingFaceFolder.Save(student, slot.HfDir);
        using var baselineEmbedder = evaluation.Embedder(baseline);
        phases.Run(slot.Phase("evaluate baseline"), () => variants[slot.Baseline] = RunPipeline.Measure(baseline, baselineEmbedder.Embed, teacherEmbed, null, config, data.Eval, log,
            evaluation.Caching(baseline)));
        using var studentEmbedder = evaluation.Embedder(student);
        var studentCaching = evaluation.Caching(student);
        phases.Run(slot.Phase("evaluate student"), () => variants[slot.Name] = RunPipeline.Measure(student, studentEmbedder.Embed, teacherEmbed, RunPipeline.DirBytes(slot.HfDir), config, data.Eval, log,
            studentCaching));

        int threads = evaluation.Threads;
        var bench = config.Bench;
        int batchN = bench.Batches.Max();
        string? int8OnnxRecipe = null;
        phases.Run(slot.Phase("quantize"), () =>
        {
            // A completed QAT stage already exported the model it trained; otherwise post-training quantization.
            QuantizedModel quantized;
            if (distill.Artifact is { } qatFile)
            {
                quantized = QuantizedModelFile.Load(qatFile);
                log.WriteLine($"using the QAT export {qatFile}");
            }
            else
            {
                var calibration = data.Corpus.Take(quantizeConfig.CalibBatches * 16).ToList();
                quantized = EncoderQuantizer.Quantize(student, quantizeConfig, calibration);
            }
            using var int8 = EncoderToRuntime.Build(student, quantized, threads);
            int8.Save(slot.Int8Dir);
            OnnxExporter.ExportFp32(student, slot.Fp32OnnxPath);
            // The ONNX Runtime row runs ORT's own dynamic path (DynamicQuantizeLinear, fused into
            // DynamicQuantizeMatMul): a per-token model exports its per-tensor twin, and the row says so.
            int8OnnxRecipe = OnnxExporter.ExportInt8(student, quantized, slot.Int8OnnxPath,
                new OnnxExportOptions(DynamicActivations: quantized.Recipe.Mode == ActivationMode.Dynamic ? OnnxDynamicActivations.OrtPerTensor : OnnxDynamicActivations.Model)).Recipe;
            // Quality of the INT8 student = what our C# INT8 runtime computes (bit-identical for every
            // kernel and thread count, so the files it runs are the whole subject of its cache entry).
            var cached = new List<string>();
            var quality = VariantMeasurer.Quality(t => int8.Embed(t), config.Eval, data.Eval, teacherEmbed, log,
                evaluation.Caching(student, ContentKey.OfFiles(slot.Int8Dir), "distillsharp-int8"), cached);
            var (b1, bn) = EncoderSpeed.Measure(slot.Int8, int8.Runner(), student.Tokenizer, bench.Seq, batchN, bench.Runs);
            variants[slot.Int8] = new VariantMeasurement(RunPipeline.Params(student.Model), Int8EncoderFile.Bytes(slot.Int8Dir), quality, b1, bn, "distillsharp-int8",
                quantized.Recipe.Name, cached);
        });
        // The exported files as a user deploys them: task metrics and speed under ONNX Runtime.
        phases.Run(slot.Phase("evaluate onnxruntime"), () =>
        {
            foreach (var (name, path, runtime) in new[] { (slot.Onnx, slot.Fp32OnnxPath, "onnxruntime-fp32"), (slot.Int8Onnx, slot.Int8OnnxPath, "onnxruntime-int8") })
            {
                using var ort = new OnnxRuntimeEncoder(path, threads: threads);
                // student.onnx is the graph the student's own evaluation ran when that engine is ONNX Runtime: same
                // cache entry; any other file (the INT8 export) is a subject of its own, keyed by its bytes.
                var cached = new List<string>();
                var caching = runtime == evaluation.Engine ? studentCaching : evaluation.Caching(student, ContentKey.OfFiles(path), $"{runtime} threads={threads}");
                var quality = VariantMeasurer.Quality(t => ort.Embed(t, student.Tokenizer, student.Pooling, student.Normalize), config.Eval, data.Eval, teacherEmbed, log,
                    caching, cached);
                var (b1, bn) = EncoderSpeed.Measure(name, ort.RunDiscard, student.Tokenizer, bench.Seq, batchN, bench.Runs);
                variants[name] = new VariantMeasurement(RunPipeline.Params(student.Model), new FileInfo(path).Length, quality, b1, bn, runtime,
                    path == slot.Int8OnnxPath ? int8OnnxRecipe : null, cached);
            }
        });
        return distill;
    }
}
