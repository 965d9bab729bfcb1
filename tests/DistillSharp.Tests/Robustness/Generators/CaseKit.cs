using System.Text;
using System.Text.Json.Nodes;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>Small helpers the generators share: copies of the tiny models with one file changed.</summary>
internal static class CaseKit
{
    /// <summary>A copy of <paramref name="source"/> in the case folder, as "model".</summary>
    public static string CopyModel(string source, string caseDir) => RobustnessModels.Copy(source, Path.Combine(caseDir, "model"));

    /// <summary>Replaces a JSON object file's content after <paramref name="edit"/>.</summary>
    public static void EditJson(string path, Action<JsonObject> edit)
    {
        var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(o);
        File.WriteAllText(path, o.ToJsonString());
    }

    /// <summary>Sets one key of a JSON object file to raw JSON text (null text removes the key).</summary>
    public static void SetKey(string path, string key, string? rawJson) =>
        EditJson(path, o =>
        {
            if (rawJson is null) o.Remove(key);
            else o[key] = JsonNode.Parse(rawJson);
        });

    /// <summary>A symbolic link at <paramref name="path"/> (replacing what is there) to <paramref name="target"/>.</summary>
    public static void Link(string path, string target)
    {
        if (File.Exists(path)) File.Delete(path);
        File.CreateSymbolicLink(path, target);
    }

    /// <summary>A sparse file of <paramref name="bytes"/> at <paramref name="path"/> (nothing written to disk).</summary>
    public static void Sparse(string path, long bytes)
    {
        using var s = new FileStream(path, FileMode.Create);
        s.SetLength(bytes);
    }

    /// <summary>A named pipe at <paramref name="path"/>.</summary>
    public static void Fifo(string path)
    {
        if (File.Exists(path)) File.Delete(path);
        using var p = System.Diagnostics.Process.Start("mkfifo", [path])!;
        p.WaitForExit();
    }

    /// <summary>Latin-1 bytes (é as 0xE9): not valid UTF-8.</summary>
    public static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>A case of <paramref name="category"/>.</summary>
    public static BadInputCase Case(string category, string name, Func<string, string[]> prepare, params string[] culprits) =>
        new(category, name, dir => new CliCall(prepare(dir)), culprits);

    /// <summary>A case that must succeed (exit code 0).</summary>
    public static BadInputCase Works(string category, string name, Func<string, string[]> prepare) =>
        new(category, name, dir => new CliCall(prepare(dir)), [], ExitCode: 0);
}
