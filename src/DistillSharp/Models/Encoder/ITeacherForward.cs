using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// The frozen teacher's forward pass for distillation, whatever engine runs it: the
/// <see cref="ModelOutput"/> tensors the losses read (at least the <see cref="Outputs"/> it was made
/// for, and the pooled embedding), in the caller's dispose scope, without an autograd graph. Layer
/// lists keep their length; an engine may leave layers nobody asked for as empty tensors.
/// </summary>
public interface ITeacherForward : IDisposable
{
    /// <summary>What runs it (<c>torchsharp</c>, <c>onnxruntime</c>), for logs and reports.</summary>
    string Engine { get; }

    /// <summary>The outputs every forward pass provides.</summary>
    TeacherOutputs Outputs { get; }

    /// <summary>One tokenized batch.</summary>
    ModelOutput Forward(TokenBatch batch);
}

/// <summary>The TorchSharp teacher itself (no gradient is recorded): the reference the other engines are checked against.</summary>
public sealed class TorchTeacherForward(SentenceEncoder teacher, TeacherOutputs outputs) : ITeacherForward
{
    /// <inheritdoc/>
    public string Engine => "torchsharp";

    /// <inheritdoc/>
    public TeacherOutputs Outputs { get; } = outputs.Validate(teacher.Model.Config.NumHiddenLayers);

    /// <summary>Every output (all layers; Q/K/V only when <see cref="Outputs"/> asks for any).</summary>
    public ModelOutput Forward(TokenBatch batch)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        return teacher.Forward(batch, Outputs.AnyQkv);
    }

    /// <summary>The teacher is the caller's; nothing to release.</summary>
    public void Dispose() { }
}
