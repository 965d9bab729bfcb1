using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Models.Decoder;

/// <summary>
/// A decoder's safetensors weights in Hugging Face's layout: one model.safetensors, or shards
/// model-0000i-of-0000n.safetensors listed by model.safetensors.index.json
/// ({"metadata": {"total_size": bytes}, "weight_map": {tensor: shard file}}).
/// </summary>
public static class DecoderWeights
{
    /// <summary>Single-file weights name.</summary>
    public const string SingleFile = "model.safetensors";
    /// <summary>Shard index name.</summary>
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>The weights file of <paramref name="dir"/> (the index when sharded), for messages.</summary>
    public static string Source(string dir) => File.Exists(Path.Combine(dir, IndexFile)) ? Path.Combine(dir, IndexFile) : Path.Combine(dir, SingleFile);

    /// <summary>True when <paramref name="dir"/> holds weights in either layout.</summary>
    public static bool Exists(string dir) =>
        File.Exists(Path.Combine(dir, SingleFile)) || File.Exists(Path.Combine(dir, IndexFile));

    /// <summary>Reads every tensor (from the index's shards when there is an index).</summary>
    public static Dictionary<string, SafeTensor> Read(string dir)
    {
        string index = Path.Combine(dir, IndexFile);
        if (!File.Exists(index))
        {
            string single = Path.Combine(dir, SingleFile);
            if (!File.Exists(single)) throw new DistillSharpException($"{dir}: no {SingleFile} and no {IndexFile}");
            return Safetensors.Read(single).Tensors;
        }
        var map = InputFile.ReadJsonObject(index, IndexFile)["weight_map"] as JsonObject
            ?? throw new DistillSharpException($"{index}: no weight_map object");
        var shardOf = map.ToDictionary(kv => kv.Key, kv => JsonKeys.String(map, kv.Key, index + " weight_map") is { } f && IsShardName(f) ? f
            : throw new DistillSharpException($"{index}: weight_map['{kv.Key}'] is {kv.Value?.ToJsonString() ?? "null"}, expected the name of a .safetensors file in {dir}"));
        var tensors = new Dictionary<string, SafeTensor>();
        foreach (var shard in shardOf.Values.Distinct())
        {
            string path = Path.Combine(dir, shard);
            if (!File.Exists(path)) throw new DistillSharpException($"{index}: shard {shard} listed in weight_map is missing");
            foreach (var (name, t) in Safetensors.Read(path).Tensors)
            {
                if (shardOf.GetValueOrDefault(name) != shard)
                    throw new DistillSharpException($"{path}: tensor '{name}' is not mapped to this shard in {IndexFile}");
                tensors[name] = t;
            }
        }
        var absent = map.Select(kv => kv.Key).Where(k => !tensors.ContainsKey(k)).ToList();
        if (absent.Count > 0) throw new DistillSharpException($"{index}: tensor '{absent[0]}' is listed in weight_map but in no shard");
        return tensors;
    }

    // A shard is a plain file name beside the index: no folder part, so nothing outside the model folder is read.
    static bool IsShardName(string name) =>
        name.EndsWith(".safetensors", StringComparison.Ordinal) && name == Path.GetFileName(name) && name != ".." && !name.Contains('\\');

    /// <summary>
    /// Writes tensors (name order) as one file, or as shards of at most <paramref name="maxShardBytes"/>
    /// tensor bytes each plus the index when they do not fit one. Stale files of the other layout are removed.
    /// </summary>
    public static void Write(string dir, IReadOnlyDictionary<string, SafeTensor> tensors, long maxShardBytes = long.MaxValue)
    {
        if (maxShardBytes <= 0) throw new DistillSharpException($"maxShardBytes must be > 0, got {maxShardBytes}");
        Directory.CreateDirectory(dir);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        var shards = new List<List<string>> { new() };
        long size = 0, total = 0;
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            long bytes = tensors[name].Data.Length;
            if (size > 0 && size + bytes > maxShardBytes) { shards.Add([]); size = 0; }
            shards[^1].Add(name);
            size += bytes;
            total += bytes;
        }
        foreach (var stale in Directory.GetFiles(dir, "model-*-of-*.safetensors")) File.Delete(stale);
        if (shards.Count == 1)
        {
            File.Delete(Path.Combine(dir, IndexFile));
            Safetensors.Write(Path.Combine(dir, SingleFile), tensors, metadata);
            return;
        }
        File.Delete(Path.Combine(dir, SingleFile));
        var map = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Safetensors.Write(Path.Combine(dir, file), shards[i].Select(n => new KeyValuePair<string, SafeTensor>(n, tensors[n])), metadata);
            foreach (var n in shards[i]) map[n] = file;
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = map };
        AtomicFile.WriteText(Path.Combine(dir, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
