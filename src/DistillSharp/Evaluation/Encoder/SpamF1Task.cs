using DistillSharp.Data;

namespace DistillSharp.Evaluation.Encoder;

/// <summary>
/// <c>spam-f1</c>: the model's embeddings of each mail's subject + body (cut to
/// <see cref="EvalContext.MaxMailChars"/> characters; the tokenizer truncates further) are frozen
/// features for an L2-regularized logistic regression (<see cref="LogisticRegression"/>, C = 1,
/// standardized features, no inner CV) trained on the 80% split and tested on the 20% split.
/// Metrics: <c>f1</c> (spam is the positive class) with its 95% bootstrap interval over the test
/// mails (<c>f1_ci95_low</c>, <c>f1_ci95_high</c>), <c>accuracy</c>, <c>precision</c>, <c>recall</c>.
/// </summary>
public sealed class SpamF1Task : IEvalTask
{
    /// <summary>Registry name.</summary>
    public const string TaskName = "spam-f1";

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public EvalResult Run(EvalContext context)
    {
        var split = context.Data.Mails;
        context.Log?.WriteLine($"{TaskName}: embedding {split.Train.Count} training and {split.Test.Count} test mails ...");
        return Evaluate(split, context.Embed, context.MaxMailChars, context.BatchSize);
    }

    /// <summary>Runs the task on a given split.</summary>
    public static EvalResult Evaluate(MailSplit split, Func<IReadOnlyList<string>, float[][]> embed,
        int maxChars = 2000, int batchSize = 64, LogisticRegressionOptions? options = null)
    {
        if (maxChars <= 0) throw new DistillSharpException($"{TaskName}: max mail characters {maxChars} must be positive");
        var train = Embeddings.Embed(embed, Texts(split.Train, maxChars), batchSize, TaskName + " train");
        var test = Embeddings.Embed(embed, Texts(split.Test, maxChars), batchSize, TaskName + " test");
        var model = LogisticRegression.Fit(train, split.Train.Select(m => m.IsSpam).ToList(), options);
        var predicted = test.Select(model.Predict).ToList();
        var actual = split.Test.Select(m => m.IsSpam).ToList();
        var counts = ClassificationMetrics.Count(predicted, actual);
        var (low, high) = BootstrapInterval.Of(predicted, actual, c => c.F1);
        return new EvalResult(TaskName, new Dictionary<string, double>
        {
            ["f1"] = counts.F1,
            ["f1_ci95_low"] = low,
            ["f1_ci95_high"] = high,
            ["accuracy"] = counts.Accuracy,
            ["precision"] = counts.Precision,
            ["recall"] = counts.Recall,
        });
    }

    /// <summary>Subject + body of each mail, cut to <paramref name="maxChars"/>.</summary>
    public static IReadOnlyList<string> Texts(IEnumerable<LabelledMail> mails, int maxChars) =>
        mails.Select(m => m.Text.Length <= maxChars ? m.Text : m.Text[..maxChars]).ToList();
}
