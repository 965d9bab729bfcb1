using System.Text;
using System.Text.Json;

namespace DistillSharp.Data.Labelled;

/// <summary>
/// A user's labelled texts: <c>.csv</c> (header row; RFC 4180 quoting as <see cref="TextSource"/>)
/// or <c>.jsonl</c> (one object per line), with the text and label columns named by the caller.
/// A missing column lists the columns there are; an empty label names its row; rows with an empty
/// text are skipped and counted. Labels are the given list (any other label is an error naming
/// the row, a listed label without examples an error naming it) or, without a list, the distinct
/// labels in order of first appearance.
/// </summary>
public static class LabelledFile
{
    /// <summary>Loads <paramref name="path"/>; ids are "row N" (CSV, header = row 1) or "line N" (JSONL).</summary>
    public static LabelledDataset Load(string path, string textColumn, string labelColumn, IReadOnlyList<string>? labels = null)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"labelled data file {path} does not exist");
        string content = File.ReadAllText(path, Encoding.UTF8);
        var rows = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => CsvRows(content, path, textColumn, labelColumn),
            ".jsonl" => JsonlRows(content, path, textColumn, labelColumn),
            var e => throw new DistillSharpException($"labelled data file {path} has extension '{e}'; known: .csv, .jsonl"),
        };
        var items = new List<LabelledText>();
        int blank = 0;
        foreach (var (id, text, label) in rows)
        {
            if (label.Trim().Length == 0) throw new DistillSharpException($"{path} {id}: the label ('{labelColumn}') is empty");
            if (text.Trim().Length == 0) { blank++; continue; }
            if (labels is not null && !labels.Contains(label.Trim()))
                throw new DistillSharpException($"{path} {id}: unknown label '{label.Trim()}'; the config's labels: {string.Join(", ", labels)}");
            items.Add(new LabelledText(id, text.Trim(), label.Trim()));
        }
        var notes = new List<string> { $"{items.Count} labelled texts from {Path.GetFileName(path)}" };
        if (blank > 0) notes.Add($"{blank} rows with an empty text ('{textColumn}') skipped");
        var names = labels ?? items.Select(i => i.Label).Distinct().ToList();
        return new LabelledDataset(path, items, names, notes).Deduplicated().Validate();
    }

    static IEnumerable<(string Id, string Text, string Label)> CsvRows(string content, string path, string textColumn, string labelColumn)
    {
        var rows = TextSource.CsvRows(content, path).ToList();
        if (rows.Count == 0) throw new DistillSharpException($"{path}: the CSV is empty (a header row is needed)");
        var header = rows[0].Select(h => h.Trim()).ToList();
        int Column(string name, string role) => header.IndexOf(name) is int i and >= 0 ? i
            : throw new DistillSharpException($"{path}: no {role} column '{name}'; columns: {string.Join(", ", header)}");
        int text = Column(textColumn, "text"), label = Column(labelColumn, "label");
        for (int r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Count == 1 && row[0].Length == 0) continue;            // blank line
            if (Math.Max(text, label) >= row.Count)
                throw new DistillSharpException($"{path} row {r + 1}: has {row.Count} fields, the header {header.Count}");
            yield return ($"row {r + 1}", row[text], row[label]);
        }
    }

    static IEnumerable<(string Id, string Text, string Label)> JsonlRows(string content, string path, string textColumn, string labelColumn)
    {
        foreach (var (line, root) in TextSource.JsonlObjects(content, path))
        {
            string Field(string name, string role)
            {
                if (!root.TryGetProperty(name, out var value))
                    throw new DistillSharpException($"{path} line {line}: no {role} field '{name}'; fields: {string.Join(", ", root.EnumerateObject().Select(p => p.Name))}");
                return value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                    _ => throw new DistillSharpException($"{path} line {line}: {role} field '{name}' is {value.ValueKind}, expected a string"),
                };
            }
            yield return ($"line {line}", Field(textColumn, "text"), Field(labelColumn, "label"));
        }
    }
}
