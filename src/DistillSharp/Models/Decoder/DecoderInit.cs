using static TorchSharp.torch;

namespace DistillSharp.Models.Decoder;

/// <summary>Hugging Face's initialisation for decoders: matrices ~ normal(0, std), biases 0, norm weights 1.</summary>
internal static class DecoderInit
{
    public static void NormalLinearsAndEmbeddings(nn.Module module, double std)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            if (p.dim() == 2) p.normal_(0, std);
            else if (name.EndsWith(".bias")) p.zero_();
        }
    }
}
