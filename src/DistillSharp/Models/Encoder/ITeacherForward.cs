using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// The frozen teacher's forward pass for distillation, whatever engine runs it: the
/// <see cref="ModelOutput"/> tensors the losses read (every hidden state and attention map, Q/K/V on
/// request, the pooled embedding), in the caller's dispose scope, without an autograd graph.
/// </summary>
public interface ITeacherForward : IDisposable
{
    /// <summary>What runs it (<c>torchsharp</c>, <c>onnxruntime</c>), for logs and reports.</summary>
    string Engine { get; }

    /// <summary>One tokenized batch; with <paramref name="withQkv"/> also every layer's queries, keys and values.</summary>
    ModelOutput Forward(TokenBatch batch, bool withQkv);
}

/// <summary>The TorchSharp teacher itself (no gradient is recorded): the reference the other engines are checked against.</summary>
public sealed class TorchTeacherForward(SentenceEncoder teacher) : ITeacherForward
{
    /// <inheritdoc/>
    public string Engine => "torchsharp";

    /// <inheritdoc/>
    public ModelOutput Forward(TokenBatch batch, bool withQkv)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        return teacher.Forward(batch, withQkv);
    }

    /// <summary>The teacher is the caller's; nothing to release.</summary>
    public void Dispose() { }
}
