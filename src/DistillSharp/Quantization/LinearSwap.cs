using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace DistillSharp.Quantization;

/// <summary>
/// Replaces every <see cref="Linear"/> in a module tree by a module of your choice (a fake-quant
/// or calibration wrapper), and can put the originals back.
/// </summary>
/// <remarks>
/// What works in TorchSharp 0.107 (tested in LinearSwapTests): <c>register_module</c> only updates
/// the name → module table behind <c>named_children()</c>/<c>state_dict()</c>; a custom module's
/// <c>forward</c> still calls the object in its field, and <c>Linear</c> is sealed. So a swap must
/// (1) assign the field that holds the child — the same field reflection TorchSharp's own
/// <c>RegisterComponents</c> uses to find children; the field must be declared as
/// <c>Module&lt;Tensor, Tensor&gt;</c> (or a base of it), not <c>Linear</c>; (2) set the item of a
/// <c>ModuleList</c>; (3) for a <c>Sequential</c>, whose list is private and read-only, build a new
/// Sequential over the same children and swap that into its own parent. If the root itself is a
/// Sequential that needed changes, <see cref="SwapResult.Root"/> is the new root; the original is
/// left untouched.
/// </remarks>
public static class LinearSwap
{
    /// <summary>Replaces each Linear whose dotted path passes <paramref name="include"/> (default: all).</summary>
    public static SwapResult ReplaceLinears(Module root, Func<string, Linear, nn.Module<Tensor, Tensor>> replacement,
        Func<string, bool>? include = null)
    {
        var result = new SwapResult(root);
        var newRoot = Rewrite(root, "", replacement, include ?? (_ => true), result);
        result.Root = newRoot;
        return result;
    }

    private static Module Rewrite(Module m, string path, Func<string, Linear, nn.Module<Tensor, Tensor>> make,
        Func<string, bool> include, SwapResult result)
    {
        if (m is Linear linear)
        {
            if (!include(path)) return m;
            var wrapper = make(path, linear);
            if (!linear.training) wrapper.eval();
            result.Add(path, linear, wrapper);
            return wrapper;
        }
        var children = m.named_children().ToList();
        var changed = new List<(string Name, Module Old, Module New)>();
        foreach (var (name, child) in children)
        {
            var replaced = Rewrite(child, path.Length == 0 ? name : $"{path}.{name}", make, include, result);
            if (!ReferenceEquals(replaced, child)) changed.Add((name, child, replaced));
        }
        if (changed.Count == 0) return m;
        if (m is Sequential)
        {
            var items = children.Select(c => (c.name, AsTensorModule(changed.FirstOrDefault(x => x.Name == c.name).New ?? c.module, path)));
            var rebuilt = nn.Sequential(items.ToArray());
            if (!m.training) rebuilt.eval();
            return rebuilt;
        }
        foreach (var (name, old, replacement) in changed)
            result.Edit(SetChild(m, name, old, replacement, path));
        return m;
    }

    /// <summary>Points <paramref name="parent"/>'s child <paramref name="name"/> at <paramref name="replacement"/>;
    /// returns the action that undoes it.</summary>
    private static Action SetChild(Module parent, string name, Module old, Module replacement, string path)
    {
        var where = path.Length == 0 ? name : $"{path}.{name}";
        Action assign, undo;
        if (parent is ModuleList<Module> list)
        {
            var i = int.Parse(name);
            (assign, undo) = (() => list[i] = replacement, () => list[i] = old);
        }
        else if (parent is ModuleList<nn.Module<Tensor, Tensor>> typedList)
        {
            var i = int.Parse(name);
            var typed = AsTensorModule(replacement, where);
            (assign, undo) = (() => typedList[i] = typed, () => typedList[i] = (nn.Module<Tensor, Tensor>)old);
        }
        else
        {
            var field = FindField(parent, old, where);
            if (!field.FieldType.IsInstanceOfType(replacement))
                throw new DistillSharpException(
                    $"cannot replace '{where}': field {parent.GetType().Name}.{field.Name} is declared as {field.FieldType.Name}; " +
                    $"declare it as nn.Module<Tensor, Tensor> so quantization can swap in a {replacement.GetType().Name}");
            (assign, undo) = (() => field.SetValue(parent, replacement), () => field.SetValue(parent, old));
        }
        assign();
        Reregister(parent, name, replacement);
        return () => { undo(); Reregister(parent, name, old); };
    }

    // Re-registers every child in its original order (null removes an entry, and a new entry goes
    // last): parameter order — which the optimizer's saved state is keyed by — must not depend on
    // how many swaps and restores a model went through.
    private static void Reregister(Module parent, string name, Module child)
    {
        var children = parent.named_children().ToList();
        foreach (var (n, _) in children) parent.register_module(n, null!);
        foreach (var (n, c) in children) parent.register_module(n, n == name ? child : c);
    }

    private static FieldInfo FindField(Module parent, Module child, string where)
    {
        for (var t = parent.GetType(); t is not null && t != typeof(Module); t = t.BaseType)
        {
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (ReferenceEquals(f.GetValue(parent), child)) return f;
        }
        throw new DistillSharpException($"cannot replace '{where}': no field of {parent.GetType().Name} holds it (only fields, ModuleList items and Sequential items can be swapped)");
    }

    private static nn.Module<Tensor, Tensor> AsTensorModule(Module m, string where) =>
        m as nn.Module<Tensor, Tensor> ?? throw new DistillSharpException($"'{where}' is a {m.GetType().Name}, not a nn.Module<Tensor, Tensor>; it cannot sit in a Sequential or typed ModuleList");
}

/// <summary>What <see cref="LinearSwap.ReplaceLinears"/> changed, and how to undo it.</summary>
public sealed class SwapResult
{
    private readonly List<Action> _undo = [];
    private readonly List<(string Name, Linear Original, Module Replacement)> _swaps = [];

    internal SwapResult(Module root) => (Root, OriginalRoot) = (root, root);

    /// <summary>The root to run: the original one, or a rebuilt Sequential when the root was a Sequential that changed.</summary>
    public Module Root { get; internal set; }

    /// <summary>The root that was passed in (never modified when it is a Sequential).</summary>
    public Module OriginalRoot { get; }

    /// <summary>Every replaced layer: dotted path, the original Linear, its replacement.</summary>
    public IReadOnlyList<(string Name, Linear Original, Module Replacement)> Swaps => _swaps;

    internal void Add(string name, Linear original, Module replacement) => _swaps.Add((name, original, replacement));

    internal void Edit(Action undo) => _undo.Add(undo);

    /// <summary>Puts the original Linears back into fields and ModuleLists (in reverse order).</summary>
    public void Restore()
    {
        for (var i = _undo.Count - 1; i >= 0; i--) _undo[i]();
        _undo.Clear();
        Root = OriginalRoot;
    }
}
