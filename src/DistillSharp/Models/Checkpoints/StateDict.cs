using static TorchSharp.torch;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Models.Checkpoints;

/// <summary>Copies named tensors into a module's parameters and buffers, strictly, with errors that name the tensor.</summary>
public static class StateDict
{
    /// <summary>
    /// Loads <paramref name="tensors"/> into <paramref name="module"/>. Every parameter must be
    /// present with the same shape; floating dtypes are converted to the parameter's dtype. Keys the
    /// module does not have are an error unless listed in <paramref name="ignore"/>.
    /// </summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, SafeTensor> tensors, string source, IEnumerable<string>? ignore = null)
    {
        var ignored = new HashSet<string>(ignore ?? []);
        var targets = module.state_dict();
        var missing = targets.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new DistillSharpException($"{source}: missing tensor(s) {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}");
        var unexpected = tensors.Keys.Where(k => !targets.ContainsKey(k) && !ignored.Contains(k)).ToList();
        if (unexpected.Count > 0)
            throw new DistillSharpException($"{source}: unexpected tensor(s) {string.Join(", ", unexpected.Take(5))} (the model has no such parameter)");
        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
        {
            var stored = tensors[name];
            stored.RequireFinite($"{source}: tensor '{name}'");
            if (!stored.Shape.SequenceEqual(target.shape))
                throw new DistillSharpException($"{source}: tensor '{name}' has shape [{string.Join(", ", stored.Shape)}], the model needs [{string.Join(", ", target.shape)}]");
            using var loaded = TorchSafetensors.ToTensor(stored);
            if (loaded.is_floating_point() != target.is_floating_point())
                throw new DistillSharpException($"{source}: tensor '{name}' has dtype {stored.Dtype}, the model needs {target.dtype}");
            target.copy_(loaded);
        }
    }

    /// <summary>Float32 data with a shape → a stored tensor record.</summary>
    public static SafeTensor FromFloats(float[] data, long[] shape)
    {
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        return new SafeTensor("F32", shape, bytes);
    }
}
