using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Models;

/// <summary>
/// A BERT-family model with its tokenizer, as the encoder family's training objective trains and
/// distils it: a sentence encoder (pooled embedding) or a sequence classifier (logits). The two
/// differ only in the module around the encoder and in what <see cref="Forward"/> adds to the
/// encoder's outputs.
/// </summary>
public interface IEncoderFamilyModel
{
    /// <summary>The whole trainable module (what is optimised and checkpointed).</summary>
    nn.Module Module { get; }

    /// <summary>The encoder inside it (shape, layers, activation checkpointing).</summary>
    BertEncoderModel Encoder { get; }

    /// <summary>The tokenizer (its max length bounds the sequences).</summary>
    BertTextTokenizer Tokenizer { get; }

    /// <summary>Where it came from, for messages.</summary>
    string Source { get; }

    /// <summary>Runs a tokenized batch: hidden states and attentions, plus the pooled embedding or the logits.</summary>
    ModelOutput Forward(TokenBatch batch, bool withQkv = false);
}
