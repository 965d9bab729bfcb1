using static TorchSharp.torch;

namespace DistillSharp.Models.Decoder;

/// <summary>
/// What a decoder forward returns: logits (B, T, V); hidden states (L+1 × (B, T, H): the embedding
/// output, each layer's output, the last one after the final norm — as Hugging Face returns them),
/// empty unless asked; attention probabilities (L × (B, heads, T, S), S = cached + new tokens),
/// empty unless asked. The tensors belong to the caller's dispose scope.
/// </summary>
public sealed record DecoderOutput(Tensor Logits, IReadOnlyList<Tensor> HiddenStates, IReadOnlyList<Tensor> Attentions);
