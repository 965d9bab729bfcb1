namespace DistillSharp.Evaluation.Encoder;

/// <summary>Evaluation tasks by name: one row per task.</summary>
public static class EvalRegistry
{
    /// <summary>Name → factory.</summary>
    public static readonly IReadOnlyDictionary<string, Func<IEvalTask>> Tasks =
        new Dictionary<string, Func<IEvalTask>>(StringComparer.Ordinal)
        {
            [WordNetRetrievalTask.TaskName] = () => new WordNetRetrievalTask(),
            [SpamF1Task.TaskName] = () => new SpamF1Task(),
            [AgreementTask.TaskName] = () => new AgreementTask(),
            [EmbeddingCompressionTask.TaskName] = () => new EmbeddingCompressionTask(),
            [IndexCompatibilityTask.TaskName] = () => new IndexCompatibilityTask(),
            [SotuRetrievalTask.TaskName] = () => new SotuRetrievalTask(),
        };

    /// <summary>
    /// Tasks on a held-out domain → the <c>data.corpus</c> source they hold out: a run that evaluates
    /// the task may not distil on that source.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> HeldOutSources =
        new Dictionary<string, string>(StringComparer.Ordinal) { [SotuRetrievalTask.TaskName] = SotuRetrievalTask.HeldOutSource };

    /// <summary>Tasks that compare a model with its teacher (skipped when there is none).</summary>
    public static readonly IReadOnlySet<string> NeedsTeacher = new HashSet<string>(StringComparer.Ordinal)
        { AgreementTask.TaskName, IndexCompatibilityTask.TaskName };

    /// <summary>Tasks that compare with the teacher when there is one (the held-out domain's agreement), besides <see cref="NeedsTeacher"/>.</summary>
    public static readonly IReadOnlySet<string> UsesTeacher = new HashSet<string>(NeedsTeacher.Append(SotuRetrievalTask.TaskName), StringComparer.Ordinal);

    /// <summary>Creates a task; an unknown name fails listing the known ones.</summary>
    public static IEvalTask Create(string name) =>
        Tasks.TryGetValue(name, out var factory)
            ? factory()
            : throw new DistillSharpException($"unknown evaluation task '{name}'; known: {string.Join(", ", Tasks.Keys)}");

    /// <summary>Runs the named tasks in order with one shared context (data is loaded once).</summary>
    public static IReadOnlyList<EvalResult> Run(IEnumerable<string> names, EvalContext context) =>
        names.Select(Create).ToList().Select(task => task.Run(context)).ToList();
}
