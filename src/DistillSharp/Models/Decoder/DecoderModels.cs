using DistillSharp.Runtime.Decoder;
namespace DistillSharp.Models.Decoder;

/// <summary>Builds the causal LM for a config's model_type (explicit table; unknown types list the known ones).</summary>
public static class DecoderModels
{
    static readonly Dictionary<string, Func<DecoderConfig, CausalLm>> Factories = new()
    {
        ["llama"] = c => new LlamaForCausalLm(c),
        ["qwen2"] = c => new LlamaForCausalLm(c),
        ["mistral"] = c => new LlamaForCausalLm(c),
        ["gpt2"] = c => new Gpt2LmHeadModel(c),
    };

    /// <summary>model_type values that <see cref="Create"/> accepts.</summary>
    public static IReadOnlyCollection<string> Known => Factories.Keys;

    /// <summary>A randomly initialised model of shape <paramref name="config"/>, in eval mode.</summary>
    public static CausalLm Create(DecoderConfig config)
    {
        if (!Factories.TryGetValue(config.ModelType, out var factory))
            throw new DistillSharpException($"model_type '{config.ModelType}' has no decoder; known: {string.Join(", ", Factories.Keys)}");
        var model = factory(config);
        model.eval();
        return model;
    }
}
