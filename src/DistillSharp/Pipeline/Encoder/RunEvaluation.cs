using DistillSharp.Models.Encoder;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// How a run evaluates its encoders, shared by every student of the run: the evaluation engine
/// (<see cref="EvalEngines.Default"/>), the thread count every runtime gets, the evaluation cache
/// and the teacher's memoized embeddings, so the teacher is embedded once per run and evaluated once
/// per machine.
/// </summary>
sealed class RunEvaluation : IDisposable
{
    readonly EvalCache _cache = new(CachePaths.EvalCache);
    readonly EvalEmbedder _teacherEmbedder;
    readonly string _teacherSubject;

    public RunEvaluation(SentenceEncoder teacher, int threads, string engine = EvalEngines.Default)
    {
        Engine = engine;
        Threads = threads;
        _teacherEmbedder = EvalEngines.Create(engine, teacher, threads);
        TeacherEmbed = VariantMeasurer.Memoized(_teacherEmbedder.Embed);
        _teacherSubject = EvalSubject.Of(teacher, engine).Key();
        TeacherCaching = new EvalCaching(_cache, _teacherSubject, null);
    }

    /// <summary>The engine that embeds the teacher, baselines and fp32 students for their task metrics.</summary>
    public string Engine { get; }

    /// <summary>Threads for every runtime (libtorch's count), so the comparison is fair.</summary>
    public int Threads { get; }

    /// <summary>The teacher's embeddings, computed once per run.</summary>
    public Func<IReadOnlyList<string>, float[][]> TeacherEmbed { get; }

    /// <summary>The teacher's evaluation cache entry.</summary>
    public EvalCaching TeacherCaching { get; }

    /// <summary>The evaluation cache entry of a model compared with this teacher.</summary>
    public EvalCaching Caching(SentenceEncoder encoder) => new(_cache, EvalSubject.Of(encoder, Engine).Key(), _teacherSubject);

    /// <summary>
    /// The evaluation cache entry of a model that <paramref name="runtime"/> runs from files whose content hash is
    /// <paramref name="filesIdentity"/> (an INT8 student, an exported ONNX file), with <paramref name="encoder"/>'s tokenizer and pooling.
    /// </summary>
    public EvalCaching Caching(SentenceEncoder encoder, string filesIdentity, string runtime) =>
        new(_cache, new EvalSubject(filesIdentity, runtime, encoder).Key(), _teacherSubject);

    /// <summary>An embedder of <paramref name="encoder"/> on the run's engine (the caller disposes it).</summary>
    public EvalEmbedder Embedder(SentenceEncoder encoder) => EvalEngines.Create(Engine, encoder, Threads);

    /// <summary>The note every encoder report carries about how its task metrics were computed.</summary>
    public string Note => $"teacher, baseline and student task metrics computed by {Engine} (speed rows: TorchSharp); a variant's quality_cached lists the tasks read from the evaluation cache ({CachePaths.EvalCache}).";

    public void Dispose() => _teacherEmbedder.Dispose();
}
