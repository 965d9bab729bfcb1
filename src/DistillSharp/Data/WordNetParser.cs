using System.Globalization;
using System.Text;

namespace DistillSharp.Data;

/// <summary>
/// Parses lines of WordNet's <c>data.noun/verb/adj/adv</c> files (wndb(5WN)):
/// <c>offset lex_filenum ss_type w_cnt [word lex_id]… p_cnt [ptr offset pos src/tgt]… [frames] | gloss</c>.
/// License header lines (they start with two spaces) are not data lines.
/// </summary>
public static class WordNetParser
{
    /// <summary>True for a synset line, false for the license header.</summary>
    public static bool IsDataLine(string line) => line.Length > 0 && char.IsAsciiDigit(line[0]);

    /// <summary>Parses one synset line; throws <see cref="FormatException"/> naming the bad field.</summary>
    public static WordNetSynset ParseLine(string line)
    {
        int bar = line.IndexOf(" | ", StringComparison.Ordinal);
        string head = bar >= 0 ? line[..bar] : line;
        string gloss = bar >= 0 ? line[(bar + 3)..].Trim() : "";
        string[] f = head.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int i = 0;
        string Next(string what) => i < f.Length ? f[i++] : throw new FormatException($"line ends before its {what}");

        long offset = ParseNumber(Next("synset offset"), "synset offset", NumberStyles.None);
        int lexNum = (int)ParseNumber(Next("lex_filenum"), "lex_filenum", NumberStyles.None);
        if (lexNum >= WordNetLexNames.ByNumber.Count)
            throw new FormatException($"lex_filenum {lexNum} is out of range 0..{WordNetLexNames.ByNumber.Count - 1}");
        string posField = Next("ss_type");
        if (posField.Length != 1 || !"nvasr".Contains(posField[0]))
            throw new FormatException($"ss_type '{posField}' is not one of n, v, a, s, r");

        int wordCount = (int)ParseNumber(Next("w_cnt"), "w_cnt", NumberStyles.AllowHexSpecifier);
        var words = new List<string>(wordCount);
        for (int w = 0; w < wordCount; w++)
        {
            words.Add(CleanWord(Next($"word {w + 1}")));
            Next($"lex_id of word {w + 1}");
        }

        int pointerCount = (int)ParseNumber(Next("p_cnt"), "p_cnt", NumberStyles.None);
        var pointers = new List<WordNetPointer>(pointerCount);
        for (int p = 0; p < pointerCount; p++)
        {
            string symbol = Next($"pointer {p + 1} symbol");
            long target = ParseNumber(Next($"pointer {p + 1} offset"), "pointer offset", NumberStyles.None);
            string pos = Next($"pointer {p + 1} pos");
            string sourceTarget = Next($"pointer {p + 1} source/target");
            if (pos.Length != 1 || sourceTarget.Length != 4)
                throw new FormatException($"pointer {p + 1} has pos '{pos}' and source/target '{sourceTarget}'; expected one letter and 4 hex digits");
            pointers.Add(new WordNetPointer(symbol, target, pos[0],
                (int)ParseNumber(sourceTarget[..2], "pointer source", NumberStyles.AllowHexSpecifier),
                (int)ParseNumber(sourceTarget[2..], "pointer target", NumberStyles.AllowHexSpecifier)));
        }
        // Verb frames follow in data.verb; they are not used.
        var (definitions, examples) = SplitGloss(gloss);
        return new WordNetSynset(offset, posField[0], WordNetLexNames.ByNumber[lexNum], words, pointers, definitions, examples);
    }

    /// <summary>
    /// Splits a gloss at semicolons outside quotes: quoted parts are example sentences (text
    /// between the quotes; an attribution after the closing quote is dropped), the rest definitions.
    /// </summary>
    public static (IReadOnlyList<string> Definitions, IReadOnlyList<string> Examples) SplitGloss(string gloss)
    {
        var definitions = new List<string>();
        var examples = new List<string>();
        foreach (string part in SplitOutsideQuotes(gloss))
        {
            string segment = part.Trim();
            if (segment.Length == 0) continue;
            if (segment[0] != '"')
            {
                definitions.Add(segment);
                continue;
            }
            // One segment may hold several quoted sentences: "a" "b".
            int at = 0;
            while (at < segment.Length && segment[at] == '"')
            {
                int close = segment.IndexOf('"', at + 1);
                string example = (close < 0 ? segment[(at + 1)..] : segment[(at + 1)..close]).Trim();
                if (example.Length > 0) examples.Add(example);
                if (close < 0) break;
                at = segment.IndexOf('"', close + 1);
                if (at < 0) break;
            }
        }
        return (definitions, examples);
    }

    static IEnumerable<string> SplitOutsideQuotes(string gloss)
    {
        var current = new StringBuilder();
        bool inQuote = false;
        foreach (char c in gloss)
        {
            if (c == '"') inQuote = !inQuote;
            if (c == ';' && !inQuote)
            {
                yield return current.ToString();
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        yield return current.ToString();
    }

    static string CleanWord(string word)
    {
        // Adjectives may carry a syntactic marker: (a) attributive, (p) predicative, (ip) postnominal.
        foreach (string marker in AdjectiveMarkers)
            if (word.Length > marker.Length && word.EndsWith(marker, StringComparison.Ordinal))
                return word[..^marker.Length].Replace('_', ' ');
        return word.Replace('_', ' ');
    }

    static readonly string[] AdjectiveMarkers = ["(a)", "(p)", "(ip)"];

    static long ParseNumber(string text, string what, NumberStyles style) =>
        long.TryParse(text, style, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new FormatException($"{what} '{text}' is not a {(style == NumberStyles.AllowHexSpecifier ? "hex" : "decimal")} number");
}
