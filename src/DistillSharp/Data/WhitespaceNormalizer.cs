using System.Text;

namespace DistillSharp.Data;

/// <summary>
/// Normalizes whitespace of extracted text: inside a line every run of whitespace or control
/// characters becomes one space; lines are trimmed; runs of empty lines become one empty line
/// (a paragraph break); leading and trailing blank lines go.
/// </summary>
public static class WhitespaceNormalizer
{
    /// <summary>Normalizes keeping paragraph structure (see the type summary).</summary>
    public static string Normalize(string text)
    {
        var output = new StringBuilder(text.Length);
        var line = new StringBuilder();
        bool pendingBlank = false;
        foreach (string rawLine in text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n'))
        {
            line.Clear();
            bool space = false;
            foreach (char c in rawLine)
            {
                if (char.IsWhiteSpace(c) || char.IsControl(c) || c == '\u200B' || c == '\uFEFF')
                {
                    space = line.Length > 0;
                    continue;
                }
                if (space) line.Append(' ');
                space = false;
                line.Append(c);
            }
            if (line.Length == 0)
            {
                pendingBlank = output.Length > 0;
                continue;
            }
            if (output.Length > 0) output.Append(pendingBlank ? "\n\n" : "\n");
            pendingBlank = false;
            output.Append(line);
        }
        return output.ToString();
    }

    /// <summary>Collapses all whitespace, line breaks included, to single spaces.</summary>
    public static string SingleLine(string text) => Normalize(text).Replace("\n\n", " ").Replace('\n', ' ');
}
