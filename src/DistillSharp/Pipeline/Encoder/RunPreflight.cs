using DistillSharp.Config.Encoder;
using DistillSharp.Data;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// What `distill run` checks before its first expensive step (loading the corpus, the evaluation
/// data and the teacher takes seconds to minutes): the run folder is writable, the corpus file (when
/// data.corpus names one) is a readable file of a known kind, the corpus names known sources and
/// none that an evaluation task holds out, and the config agrees with the
/// teacher's config.json — sequence lengths within its position table, teacher layers that exist,
/// widths that teacher-layer initialisation can copy. Errors name the config key.
/// </summary>
public static class RunPreflight
{
    /// <summary>Runs the checks; returns the run folder's full path.</summary>
    public static string Check(RunConfig config, RunOptions options)
    {
        string runDir = OutputPath.Folder(options.OutDir ?? config.Output, options.OutDir is null ? "output" : "--out");
        CorpusSources.Validate(config.Data.CorpusEntries);
        foreach (string entry in config.Data.CorpusEntries.Where(CorpusSources.IsFile)) CheckCorpus(entry);
        RunData.CheckHeldOut(config);
        var teacher = TeacherConfig(config.Teacher.Source);
        int positions = teacher?.MaxPositionEmbeddings ?? 512;
        string of = teacher is null ? $"the teacher ({positions} for BERT-family encoders)" : $"the teacher's config.json ({positions})";
        Length("data.max_len", config.Data.MaxLen, positions, of);
        Length("bench.seq", config.Bench.Seq, positions, of);
        foreach (var run in config.Students?.Select(config.ForStudent) ?? new[] { config })
            if (!run.Student.IsStatic) CheckMatryoshka(run, teacher?.HiddenSize);
        if (teacher is null || config.Student.IsStatic) return runDir;
        var s = config.Student;
        if (s.Init != "random" && s.TeacherLayers?.FirstOrDefault(l => l >= teacher.NumHiddenLayers) is int bad && bad >= teacher.NumHiddenLayers)
            throw new DistillSharpException($"student.teacher_layers names layer {bad}, but the teacher has {teacher.NumHiddenLayers} (0..{teacher.NumHiddenLayers - 1})");
        if (s.Init == "teacher" && (s.Hidden != teacher.HiddenSize || s.Ffn != teacher.IntermediateSize))
            throw new DistillSharpException(
                $"student.init teacher copies teacher layers, which needs the teacher's widths (hidden {teacher.HiddenSize}, ffn {teacher.IntermediateSize}); " +
                $"student.hidden is {s.Hidden} and student.ffn {s.Ffn}: use init projection or random");
        return runDir;
    }

    // matryoshka's prefixes are taken in the teacher's principal directions of the pooled embedding:
    // caught here rather than when its stage starts, after the stages before it have trained.
    static void CheckMatryoshka(RunConfig config, int? teacherHidden)
    {
        int width = config.Student.Hidden;
        for (int i = 0; i < config.Stages.Count; i++)
            foreach (var loss in config.Stages[i].Losses.Where(l => l.Name == "matryoshka" && l.Weight > 0))
            {
                string key = $"stages[{i}].losses.matryoshka";
                if (teacherHidden is int t && t != width)
                    throw new DistillSharpException($"{key} needs student.hidden ({width}) to equal the teacher's hidden size ({t}): its basis is the teacher's principal directions");
                if (loss.Settings.Ints("dims").Where(d => d > width).Select(d => (int?)d).FirstOrDefault() is int big)
                    throw new DistillSharpException($"{key}.dims has {big}, more than the pooled width {width} (student.hidden)");
            }
    }

    static void Length(string key, int value, int positions, string of)
    {
        if (value < 3 || value > positions)
            throw new DistillSharpException($"{key} {value} must be in [3, {positions}]: at least [CLS] + one token + [SEP], at most max_position_embeddings of {of}");
    }

    // A data.corpus entry that is a path must be a text file of a known kind; source names are checked by CorpusSources.Validate.
    static void CheckCorpus(string corpus)
    {
        if (!File.Exists(corpus) && !Directory.Exists(corpus))
            throw new DistillSharpException($"data.corpus {corpus}: file not found (or name sources: {string.Join(", ", RunData.Sources)} joined by '+')");
        InputFile.Check(corpus, InputFile.CorpusBytes, "corpus");
        string extension = Path.GetExtension(corpus).ToLowerInvariant();
        if (!TextSource.Extensions.Contains(extension))
            throw new DistillSharpException($"data.corpus {corpus} has extension '{extension}'; known: {string.Join(", ", TextSource.Extensions)}");
    }

    // The teacher's config.json when the teacher is a Hugging Face folder or a run folder; null for built-in and ONNX teachers.
    static BertConfig? TeacherConfig(string source)
    {
        if (source.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) || BuiltinTeachers.All.ContainsKey(source)) return null;
        if (File.Exists(source) && source.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            InputFile.Check(source, InputFile.ProtobufBytes, "ONNX");
            return null;
        }
        foreach (string dir in new[] { source, Path.Combine(source, "student") })
            if (HuggingFaceFolder.IsModelFolder(dir)) return BertConfig.Load(Path.Combine(dir, "config.json"));
        throw new DistillSharpException(
            $"teacher.source '{source}' is neither builtin:NAME, an .onnx file, a Hugging Face folder (config.json + model.safetensors) nor a run folder with student/");
    }
}
