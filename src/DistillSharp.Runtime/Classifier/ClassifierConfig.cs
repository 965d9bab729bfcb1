using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Runtime.Classifier;

/// <summary>
/// The config.json of a BERT sequence classifier as Hugging Face transformers writes it for
/// <c>BertForSequenceClassification</c>: the encoder's <see cref="BertConfig"/> fields plus
/// <c>id2label</c> (string ids "0" … "C−1" → label), <c>label2id</c> (its inverse),
/// <c>problem_type</c> and <c>classifier_dropout</c>. <c>num_labels</c> is not stored by
/// transformers (it is the size of <c>id2label</c>); when a file carries it, it must agree.
/// </summary>
/// <param name="Encoder">The encoder's shape.</param>
/// <param name="Labels">Label names by class id.</param>
/// <param name="ProblemType">Only <see cref="SingleLabel"/> (softmax over the classes, cross-entropy) is supported.</param>
/// <param name="ClassifierDropout">Dropout before the classifier; null = the encoder's hidden dropout (transformers' rule).</param>
public sealed record ClassifierConfig(BertConfig Encoder, IReadOnlyList<string> Labels, string ProblemType = ClassifierConfig.SingleLabel,
    double? ClassifierDropout = null)
{
    /// <summary>The architecture name written to and required in config.json.</summary>
    public const string Architecture = "BertForSequenceClassification";

    /// <summary>transformers' problem type for one label per text.</summary>
    public const string SingleLabel = "single_label_classification";

    /// <summary>Number of classes C.</summary>
    public int NumLabels => Labels.Count;

    /// <summary>Dropout applied to the pooled output before the classifier.</summary>
    public double EffectiveDropout => ClassifierDropout ?? Encoder.HiddenDropoutProb;

    /// <summary>The class id of <paramref name="label"/>; an unknown label lists the known ones.</summary>
    public int LabelId(string label)
    {
        for (int i = 0; i < Labels.Count; i++)
            if (Labels[i] == label) return i;
        throw new DistillSharpException($"unknown label '{label}'; the model's labels: {string.Join(", ", Labels)}");
    }

    /// <summary>Checks the labels and head settings; errors name the field.</summary>
    public ClassifierConfig Validate(string source)
    {
        Encoder.Validate(source);
        if (Labels.Count < 2) throw new DistillSharpException($"{source}: a classifier needs at least 2 labels, got {Labels.Count}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string label in Labels)
        {
            if (string.IsNullOrWhiteSpace(label)) throw new DistillSharpException($"{source}: id2label holds an empty label name");
            if (!seen.Add(label)) throw new DistillSharpException($"{source}: label '{label}' appears twice in id2label");
        }
        if (ProblemType != SingleLabel)
            throw new DistillSharpException($"{source}: problem_type '{ProblemType}' is not supported; supported: {SingleLabel}");
        if (ClassifierDropout is double d && d is not (>= 0 and < 1))
            throw new DistillSharpException($"{source}: classifier_dropout must be in [0, 1), got {d}");
        return this;
    }

    /// <summary>True when <paramref name="json"/> is a config.json whose architectures name a sequence classifier.</summary>
    public static bool IsClassifierJson(string json)
    {
        try
        {
            return JsonNode.Parse(json)?["architectures"] is JsonArray a && a.Any(n => n?.GetValue<string>() == Architecture);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Reads a transformers config.json of a BertForSequenceClassification.</summary>
    public static ClassifierConfig FromJson(string json, string source)
    {
        var encoder = BertConfig.FromJson(json, source);
        var o = JsonNode.Parse(json)!.AsObject();
        var architectures = o["architectures"] as JsonArray;
        if (architectures is null || !architectures.Any(n => n?.GetValue<string>() == Architecture))
            throw new DistillSharpException(
                $"{source}: architectures is [{string.Join(", ", architectures?.Select(n => n?.ToJsonString()) ?? [])}]; a sequence classifier needs {Architecture}");
        try
        {
            var labels = ReadLabels(o, source);
            string problem = o["problem_type"] is JsonValue p ? p.GetValue<string>() : SingleLabel;
            double? dropout = o["classifier_dropout"] is JsonValue v ? v.GetValue<double>() : null;
            return new ClassifierConfig(encoder, labels, problem, dropout).Validate(source);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new DistillSharpException($"{source}: a classifier field has the wrong type ({e.Message})");
        }
    }

    static List<string> ReadLabels(JsonObject o, string source)
    {
        int? numLabels = o["num_labels"] is JsonValue n ? n.GetValue<int>() : null;
        List<string> labels;
        if (o["id2label"] is JsonObject id2label)
        {
            var byId = new SortedDictionary<int, string>();
            foreach (var (key, value) in id2label)
            {
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                    throw new DistillSharpException($"{source}: id2label key '{key}' is not a class id (0, 1, …)");
                byId[id] = value?.GetValue<string>() ?? throw new DistillSharpException($"{source}: id2label[\"{key}\"] is null");
            }
            if (byId.Count == 0 || byId.Keys.First() != 0 || byId.Keys.Last() != byId.Count - 1)
                throw new DistillSharpException($"{source}: id2label ids must be 0 … {byId.Count - 1} without gaps, got {string.Join(", ", byId.Keys)}");
            labels = byId.Values.ToList();
        }
        else
        {
            // transformers' default: num_labels (2 when absent) labels named LABEL_i.
            labels = Enumerable.Range(0, numLabels ?? 2).Select(i => $"LABEL_{i}").ToList();
        }
        if (numLabels is int count && count != labels.Count)
            throw new DistillSharpException($"{source}: num_labels is {count} but id2label has {labels.Count} labels");
        if (o["label2id"] is JsonObject label2id)
        {
            if (label2id.Count != labels.Count)
                throw new DistillSharpException($"{source}: label2id has {label2id.Count} labels, id2label {labels.Count}");
            for (int i = 0; i < labels.Count; i++)
                if (label2id[labels[i]] is not JsonValue id || id.GetValue<int>() != i)
                    throw new DistillSharpException($"{source}: label2id[\"{labels[i]}\"] must be {i} (id2label[\"{i}\"] is \"{labels[i]}\")");
        }
        return labels;
    }

    /// <summary>config.json as transformers writes it: keys sorted, two-space indentation.</summary>
    public string ToJson(string torchDtype = "float32")
    {
        var o = Encoder.ToJsonObject(torchDtype, Architecture);
        var id2label = new JsonObject();
        var label2id = new JsonObject();
        for (int i = 0; i < Labels.Count; i++)
        {
            id2label[i.ToString(CultureInfo.InvariantCulture)] = Labels[i];
            label2id[Labels[i]] = i;
        }
        o["id2label"] = id2label;
        o["label2id"] = label2id;
        o["problem_type"] = ProblemType;
        o["classifier_dropout"] = ClassifierDropout;
        var sorted = new JsonObject();
        foreach (var (key, value) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
        {
            o.Remove(key);
            sorted[key] = value;
        }
        return sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
