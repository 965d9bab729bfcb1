using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Classifier;
using static TorchSharp.torch;

namespace DistillSharp.Models.Classifier;

/// <summary>
/// Builds classifiers: a new head on a pretrained encoder (what fine-tuning starts from, as
/// transformers' <c>from_pretrained</c> of an encoder checkpoint into BertForSequenceClassification),
/// and a student of a classifier teacher (encoder by <see cref="StudentBuilder"/>, head copied or
/// projected).
/// </summary>
public static class ClassifierBuilder
{
    /// <summary>
    /// A classifier over <paramref name="labels"/> on a copy of <paramref name="encoder"/>'s weights.
    /// The classifier (and the pooler, when the encoder has none, e.g. an ONNX sentence-transformers
    /// export) start from normal(0, initializer_range) drawn with <paramref name="seed"/>.
    /// </summary>
    public static SequenceClassifier FromEncoder(SentenceEncoder encoder, IReadOnlyList<string> labels, long seed,
        double? dropout = null)
    {
        var source = encoder.Model.Config;
        var shape = source with
        {
            HasPooler = true,
            HiddenDropoutProb = dropout ?? source.HiddenDropoutProb,
            AttentionProbsDropoutProb = dropout ?? source.AttentionProbsDropoutProb,
        };
        manual_seed(seed);
        var model = new BertForSequenceClassification(new ClassifierConfig(shape, labels));
        using (no_grad())
        {
            var target = model.Bert.state_dict();
            foreach (var (name, t) in encoder.Model.state_dict())
                if (target.TryGetValue(name, out var dest)) dest.copy_(t);
        }
        model.eval();
        return new SequenceClassifier(model, encoder.Tokenizer, $"{encoder.Source} + classifier ({labels.Count} labels)");
    }

    /// <summary>
    /// A student of <paramref name="teacher"/>: the encoder (with pooler) from
    /// <see cref="StudentBuilder.Build"/>, the classifier copied from the teacher when the widths
    /// match, else projected onto the student's width with the same PCA projection (W·Pᵀ).
    /// </summary>
    public static SequenceClassifier Student(SequenceClassifier teacher, StudentSpec spec, long seed, string source = "student")
    {
        var encoder = StudentBuilder.Build(teacher.Model.Bert, spec, seed);
        var config = new ClassifierConfig(encoder.Config, teacher.Labels);
        var model = new BertForSequenceClassification(config, encoder);
        if (spec.Init != StudentInit.Random)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var from = teacher.Model.state_dict();
            var to = model.state_dict();
            var w = from["classifier.weight"];
            if (encoder.Config.HiddenSize != teacher.Config.Encoder.HiddenSize)
                w = w.matmul(StudentBuilder.PrincipalProjection(from["bert.embeddings.word_embeddings.weight"], encoder.Config.HiddenSize).t());
            to["classifier.weight"].copy_(w);
            to["classifier.bias"].copy_(from["classifier.bias"]);
        }
        return new SequenceClassifier(model, teacher.Tokenizer, source);
    }
}
