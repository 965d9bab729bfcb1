using System.Text.Json.Nodes;
using DistillSharp.Models.Classifier;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Tests.Models.Classifier;

/// <summary>Sequence classifiers as Hugging Face folders in transformers' BertForSequenceClassification layout.</summary>
public sealed class ClassifierFolderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("hf-cls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Texts = ["the cat sat on the mat .", "a dog ran", "it is a red house"];

    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    public void SaveLoadSaveIsByteExact(string dtype)
    {
        using var classifier = TinyModels.Classifier(seed: 2);
        string first = Path.Combine(_dir, "a"), second = Path.Combine(_dir, "b");
        ClassifierFolder.Save(classifier, first, dtype);
        using var loaded = ClassifierFolder.Load(first);
        ClassifierFolder.Save(loaded, second, dtype);
        var files = Directory.GetFiles(first).Select(f => Path.GetFileName(f)).Order().ToList();
        Assert.Equal(["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"], files);
        foreach (string file in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, file)), File.ReadAllBytes(Path.Combine(second, file)));
        Assert.Equal(TinyModels.Labels, loaded.Labels);
        if (dtype == "F32") Assert.Equal(classifier.Logits(Texts), loaded.Logits(Texts));
    }

    [Fact]
    public void KeysAndConfigAreTransformers()
    {
        using var classifier = TinyModels.Classifier();
        ClassifierFolder.Save(classifier, _dir);
        var (tensors, meta) = Safetensors.Read(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal("pt", meta["format"]);
        Assert.All(tensors.Keys, k => Assert.True(k.StartsWith("bert.") || k.StartsWith("classifier."), k));
        foreach (string key in new[] { "bert.embeddings.word_embeddings.weight", "bert.encoder.layer.1.output.dense.weight", "bert.pooler.dense.weight" })
            Assert.Contains(key, tensors.Keys);
        Assert.Equal([3L, 32L], tensors["classifier.weight"].Shape);
        Assert.Equal([3L], tensors["classifier.bias"].Shape);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!.AsObject();
        Assert.Equal("BertForSequenceClassification", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal("action", config["id2label"]!["2"]!.GetValue<string>());
        Assert.Equal(1, config["label2id"]!["thing"]!.GetValue<int>());
        Assert.Equal("single_label_classification", config["problem_type"]!.GetValue<string>());
        Assert.Null(config["num_labels"]);                                    // transformers derives it from id2label
        var keys = config.Select(kv => kv.Key).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);                // sort_keys=True, as transformers writes
    }

    // What transformers 4.x writes for BertForSequenceClassification.save_pretrained (fields as in its
    // PretrainedConfig.to_json_string: sorted, id2label keys as strings), plus the persistent
    // position_ids buffer that older versions kept in the state dict.
    [Fact]
    public void LoadsATransformersWrittenFolder()
    {
        using var classifier = TinyModels.Classifier(seed: 4);
        ClassifierFolder.Save(classifier, _dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), """
            {
              "_name_or_path": "tiny",
              "architectures": ["BertForSequenceClassification"],
              "attention_probs_dropout_prob": 0.0,
              "classifier_dropout": null,
              "hidden_act": "gelu",
              "hidden_dropout_prob": 0.0,
              "hidden_size": 32,
              "id2label": { "0": "animal", "1": "thing", "2": "action" },
              "initializer_range": 0.02,
              "intermediate_size": 64,
              "label2id": { "action": 2, "animal": 0, "thing": 1 },
              "layer_norm_eps": 1e-12,
              "max_position_embeddings": 64,
              "model_type": "bert",
              "num_attention_heads": 4,
              "num_hidden_layers": 2,
              "pad_token_id": 0,
              "position_embedding_type": "absolute",
              "problem_type": "single_label_classification",
              "torch_dtype": "float32",
              "transformers_version": "4.46.3",
              "type_vocab_size": 2,
              "use_cache": true,
              "vocab_size": 35
            }
            """);
        string weights = Path.Combine(_dir, "model.safetensors");
        var (tensors, meta) = Safetensors.Read(weights);
        var positions = Enumerable.Range(0, 64).SelectMany(i => BitConverter.GetBytes((long)i)).ToArray();
        tensors["bert.embeddings.position_ids"] = new SafeTensor("I64", [1, 64], positions);
        Safetensors.Write(weights, tensors, meta);
        using var loaded = ClassifierFolder.Load(_dir);
        Assert.Equal(classifier.Logits(Texts), loaded.Logits(Texts));
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { "\"num_labels\": 4,", "", "num_labels is 4 but id2label has 3 labels" },
        { "", "\"id2label\": { \"0\": \"a\", \"2\": \"b\" },", "id2label ids must be 0 … 1 without gaps" },
        { "", "\"label2id\": { \"animal\": 1, \"thing\": 0, \"action\": 2 },", "label2id[\"animal\"] must be 0" },
        { "\"problem_type\": \"multi_label_classification\",", "", "problem_type 'multi_label_classification' is not supported" },
        { "", "\"architectures\": [\"BertModel\"],", "a sequence classifier needs BertForSequenceClassification" },
        { "", "\"id2label\": { \"0\": \"a\", \"1\": \"a\" },", "label 'a' appears twice" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadClassifierConfigsNameTheField(string add, string replace, string message)
    {
        using var classifier = TinyModels.Classifier();
        var o = JsonNode.Parse(classifier.Config.ToJson())!.AsObject();
        foreach (var (key, value) in JsonNode.Parse("{" + (add + replace).TrimEnd(',') + "}")!.AsObject().ToList())
            o[key] = value?.DeepClone();
        if (replace.Contains("id2label")) o.Remove("label2id");
        var e = Assert.Throws<DistillSharpException>(() => ClassifierConfig.FromJson(o.ToJsonString(), "cfg.json"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("cfg.json: ", e.Message);
    }

    [Fact]
    public void DefaultLabelsFollowTransformers()
    {
        using var classifier = TinyModels.Classifier();
        var o = JsonNode.Parse(classifier.Config.ToJson())!.AsObject();
        o.Remove("id2label");
        o.Remove("label2id");
        o["num_labels"] = 4;
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"], ClassifierConfig.FromJson(o.ToJsonString(), "cfg").Labels);
    }

    [Fact]
    public void ASentenceEncoderFolderIsNotAClassifier()
    {
        using var encoder = TinyModels.Encoder();
        DistillSharp.Models.Encoder.HuggingFaceFolder.Save(encoder, _dir);
        Assert.False(ClassifierFolder.IsClassifierFolder(_dir));
        var e = Assert.Throws<DistillSharpException>(() => ClassifierFolder.Load(_dir));
        Assert.Contains("needs BertForSequenceClassification", e.Message);
    }
}
