using DistillSharp.Models.Checkpoints;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Models.Classifier;

/// <summary>
/// Loads and saves sequence classifiers as the Hugging Face folders transformers'
/// <c>BertForSequenceClassification.save_pretrained</c> and <c>BertTokenizer.save_pretrained</c>
/// write: config.json (<see cref="ClassifierConfig"/>: architectures, id2label, label2id,
/// problem_type), model.safetensors (keys <c>bert.…</c>, <c>classifier.weight</c>,
/// <c>classifier.bias</c>), vocab.txt, tokenizer_config.json, special_tokens_map.json.
/// Saving what was loaded gives the same bytes.
/// </summary>
public static class ClassifierFolder
{
    /// <summary>True when <paramref name="dir"/> is a Hugging Face folder of a sequence classifier.</summary>
    public static bool IsClassifierFolder(string dir) =>
        HuggingFaceFolder.IsModelFolder(dir) && ClassifierConfig.IsClassifierJson(File.ReadAllText(Path.Combine(dir, "config.json")));

    /// <summary>Saves weights in <paramref name="dtype"/> (F32, F16 or BF16), config and tokenizer files.</summary>
    public static void Save(SequenceClassifier classifier, string dir, string dtype = "F32")
    {
        Directory.CreateDirectory(dir);
        string torchDtype = HuggingFaceFolder.SaveWeights(classifier.Model, dir, dtype);
        AtomicFile.WriteText(Path.Combine(dir, "config.json"), classifier.Config.ToJson(torchDtype));
        TokenizerFiles.Save(classifier.Tokenizer, dir);
    }

    /// <summary>Loads a folder written by us or by transformers; <paramref name="maxLength"/> overrides the tokenizer's maximum.</summary>
    public static SequenceClassifier Load(string dir, int? maxLength = null)
    {
        if (!Directory.Exists(dir)) throw new DistillSharpException($"{dir}: folder not found");
        string configPath = Path.Combine(dir, "config.json"), weightsPath = Path.Combine(dir, "model.safetensors");
        foreach (string required in new[] { configPath, weightsPath })
            if (!File.Exists(required)) throw new DistillSharpException($"{dir}: missing {Path.GetFileName(required)}");
        var config = ClassifierConfig.FromJson(File.ReadAllText(configPath), configPath);
        config = config with { Encoder = config.Encoder with { HasPooler = true } };
        var (tensors, _) = Safetensors.Read(weightsPath);
        var model = new BertForSequenceClassification(config);
        try
        {
            StateDict.Load(model, tensors, weightsPath, ignore: ["bert.embeddings.position_ids"]);
            var tokenizer = TokenizerFiles.Load(dir, config.Encoder.MaxPositionEmbeddings, maxLength);
            model.eval();
            return new SequenceClassifier(model, tokenizer, dir);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
