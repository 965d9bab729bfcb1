using static TorchSharp.torch;

namespace DistillSharp.Models.Decoder;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, (B, kv_heads, S, d) each — grouped
/// heads as computed, not repeated. The cache owns its tensors (they live outside any dispose
/// scope) until it is disposed.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys;
    readonly Tensor?[] _values;

    /// <summary>An empty cache for <paramref name="layers"/> layers.</summary>
    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Number of layers.</summary>
    public int Layers => _keys.Length;

    /// <summary>Cached positions S (0 when empty).</summary>
    public int Length => _keys[0] is { } k ? (int)k.shape[2] : 0;

    /// <summary>Layer <paramref name="layer"/>'s keys and values, or null before the first append.</summary>
    public (Tensor Keys, Tensor Values)? this[int layer] =>
        _keys[layer] is { } k ? (k, _values[layer]!) : null;

    /// <summary>
    /// Appends (B, kv_heads, T, d) keys and values to layer <paramref name="layer"/> and returns the
    /// whole (B, kv_heads, S+T, d) tensors, which stay owned by the cache (do not dispose them).
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (oldK, oldV) = (_keys[layer], _values[layer]);
        var k = (oldK is null ? keys.detach().clone() : cat([oldK, keys.detach()], 2)).DetachFromDisposeScope();
        var v = (oldV is null ? values.detach().clone() : cat([oldV, values.detach()], 2)).DetachFromDisposeScope();
        oldK?.Dispose();
        oldV?.Dispose();
        _keys[layer] = k;
        _values[layer] = v;
        return (k, v);
    }

    bool _disposed;

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }
}
