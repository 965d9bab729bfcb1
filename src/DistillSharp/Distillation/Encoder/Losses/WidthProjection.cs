using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// Maps student features (…, Hs) to the teacher's width (…, Ht): a learned
/// <c>Linear(Hs, Ht)</c> when the widths differ or when forced, else the identity (no parameters).
/// The identity keeps a same-width student from satisfying the loss through the projection alone.
/// </summary>
public sealed class WidthProjection : Module<Tensor, Tensor>
{
    /// <summary>The config values of a term's <c>projection</c> option.</summary>
    public static readonly string[] Modes = ["auto", "always"];

    readonly Linear? linear;

    /// <summary>Creates the projection; <paramref name="mode"/> is "auto" or "always".</summary>
    public WidthProjection(int studentWidth, int teacherWidth, string mode) : base("projection")
    {
        if (studentWidth < 1 || teacherWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(studentWidth), $"widths must be >= 1, got {studentWidth} → {teacherWidth}");
        if (!Modes.Contains(mode))
            throw new ArgumentException($"projection must be one of {string.Join(", ", Modes)}, got '{mode}'", nameof(mode));
        StudentWidth = studentWidth;
        TeacherWidth = teacherWidth;
        if (mode == "always" || studentWidth != teacherWidth)
            linear = Linear(studentWidth, teacherWidth);
        RegisterComponents();
    }

    /// <summary>Hs.</summary>
    public int StudentWidth { get; }

    /// <summary>Ht.</summary>
    public int TeacherWidth { get; }

    /// <summary>Whether a learned Linear is used.</summary>
    public bool IsLearned => linear is not null;

    /// <inheritdoc/>
    public override Tensor forward(Tensor student)
    {
        if (student.shape[^1] != StudentWidth)
            throw new DistillSharpException($"projection expects student width {StudentWidth}, got ({string.Join(", ", student.shape)})");
        return linear is null ? student : linear.forward(student);
    }
}
