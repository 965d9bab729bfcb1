using System.Text;
using System.Text.Json;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Data;

/// <summary>
/// Loads a user's own texts: <c>.txt</c> (one text per line), <c>.jsonl</c> (one JSON object per
/// line, a string field, "text" by default) or <c>.csv</c> (RFC 4180: header row, quoted fields
/// may hold commas, quotes and line breaks; a named column). Blank texts are skipped. The file must
/// be UTF-8 text (invalid bytes and NUL bytes are refused with their position), and no text may be
/// longer than <see cref="MaxTextChars"/> characters (such a "text" is a file without line breaks,
/// refused with its line number rather than tokenized for minutes).
/// </summary>
public static class TextSource
{
    /// <summary>The formats by file extension.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".txt", ".jsonl", ".csv"];

    /// <summary>Longest text a source may hold, in characters (far above any max_len in tokens).</summary>
    public const int MaxTextChars = 1_000_000;

    /// <summary>
    /// Loads by extension. <paramref name="field"/> is the JSONL field (default "text") or the CSV
    /// column (required unless the CSV has a single column); it is not allowed for .txt.
    /// </summary>
    public static IReadOnlyList<string> Load(string path, string? field = null)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"text source {path} does not exist");
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(extension))
            throw new DistillSharpException($"text source {path} has extension '{extension}'; known: {string.Join(", ", Extensions)}");
        if (extension == ".txt" && field != null) throw new DistillSharpException($"{path}: a .txt source has one text per line and no field '{field}'");
        string content = InputFile.ReadText(path, InputFile.CorpusBytes, "text corpus");
        var texts = Parse(content, extension, field, path);
        if (texts.Count == 0) throw new DistillSharpException($"{path}: holds no text (every line is blank)");
        for (int i = 0; i < texts.Count; i++)
            if (texts[i].Length > MaxTextChars)
                throw new DistillSharpException(
                    $"{path}: text {i + 1} has {texts[i].Length:N0} characters, more than the {MaxTextChars:N0} a text may have (a file without line breaks? put one text per line)");
        return texts;
    }

    static IReadOnlyList<string> Parse(string content, string extension, string? field, string path) =>
        extension switch
        {
            ".txt" => ParseLines(content),
            ".jsonl" => ParseJsonl(content, field ?? "text", path),
            _ => ParseCsv(content, field, path),
        };

    /// <summary>One text per non-blank line, trimmed.</summary>
    public static IReadOnlyList<string> ParseLines(string content) =>
        content.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    /// <summary>The string <paramref name="field"/> of each JSON object line; errors name the line.</summary>
    public static IReadOnlyList<string> ParseJsonl(string content, string field, string name)
    {
        var texts = new List<string>();
        foreach (var (line, root) in JsonlObjects(content, name))
        {
            if (!root.TryGetProperty(field, out var value))
                throw new DistillSharpException($"{name} line {line}: no field '{field}'; fields: {string.Join(", ", root.EnumerateObject().Select(p => p.Name))}");
            if (value.ValueKind != JsonValueKind.String)
                throw new DistillSharpException($"{name} line {line}: field '{field}' is {value.ValueKind}, expected a string");
            string text = value.GetString()!.Trim();
            if (text.Length > 0) texts.Add(text);
        }
        return texts;
    }

    /// <summary>
    /// Each non-blank line of JSONL <paramref name="content"/> as (1-based line number, its object);
    /// an object is valid until the next one is asked for. A line that is not JSON or not an object is
    /// an error naming <paramref name="name"/> and the line.
    /// </summary>
    internal static IEnumerable<(int Line, JsonElement Object)> JsonlObjects(string content, string name)
    {
        string[] lines = content.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new DistillSharpException($"{name} line {i + 1}: not valid JSON ({e.Message})");
            }
            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new DistillSharpException($"{name} line {i + 1}: expected a JSON object, got {root.ValueKind}");
                yield return (i + 1, root);
            }
        }
    }

    /// <summary>The values of one column of a CSV with a header row; errors name the row or list the columns.</summary>
    public static IReadOnlyList<string> ParseCsv(string content, string? column, string name)
    {
        var rows = CsvRows(content, name).ToList();
        if (rows.Count == 0) throw new DistillSharpException($"{name}: the CSV is empty (a header row is needed)");
        var header = rows[0];
        int index;
        if (column == null)
        {
            if (header.Count != 1)
                throw new DistillSharpException($"{name}: name the column to read; columns: {string.Join(", ", header)}");
            index = 0;
        }
        else
        {
            index = header.FindIndex(h => h.Trim() == column);
            if (index < 0) throw new DistillSharpException($"{name}: no column '{column}'; columns: {string.Join(", ", header)}");
        }
        var texts = new List<string>();
        for (int r = 1; r < rows.Count; r++)
        {
            if (rows[r].Count == 1 && rows[r][0].Length == 0) continue; // blank line
            if (index >= rows[r].Count)
                throw new DistillSharpException($"{name} row {r + 1}: has {rows[r].Count} fields, column '{header[index]}' is field {index + 1}");
            string text = rows[r][index].Trim();
            if (text.Length > 0) texts.Add(text);
        }
        return texts;
    }

    /// <summary>The rows of an RFC 4180 CSV text (header included); a quoted field left open names <paramref name="name"/>.</summary>
    internal static IEnumerable<List<string>> CsvRows(string content, string name)
    {
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < content.Length; i++)
        {
            char c = content[i];
            any = true;
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < content.Length && content[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"' && field.Length == 0) quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                yield return row;
                row = [];
                any = false;
            }
            else field.Append(c);
        }
        if (quoted) throw new DistillSharpException($"{name}: a quoted CSV field is not closed before the end of the file");
        if (any)
        {
            row.Add(field.ToString().TrimEnd('\r'));
            yield return row;
        }
    }
}
