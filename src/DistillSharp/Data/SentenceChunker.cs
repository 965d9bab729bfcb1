using System.Text;
using System.Text.RegularExpressions;

namespace DistillSharp.Data;

/// <summary>
/// Cuts running text (mail bodies) into sentence-ish chunks of bounded length: text is split at
/// line breaks and after <c>.</c>, <c>!</c> or <c>?</c> followed by a space; consecutive sentences
/// are packed while they fit in <c>maxChars</c>; a longer sentence is cut at word boundaries (a
/// single word longer than the limit is cut hard). Chunks shorter than <c>minChars</c> or less
/// than 40% letters (rules, signatures of dashes, long URLs) are dropped.
/// </summary>
public static partial class SentenceChunker
{
    /// <summary>Chunks <paramref name="text"/>; every chunk is 1..<paramref name="maxChars"/> chars long.</summary>
    public static IReadOnlyList<string> Chunk(string text, int maxChars = 300, int minChars = 20)
    {
        if (maxChars < 10) throw new DistillSharpException($"chunk length limit {maxChars} must be at least 10 characters");
        if (minChars < 0 || minChars > maxChars) throw new DistillSharpException($"minimum chunk length {minChars} must be in 0..{maxChars}");
        var chunks = new List<string>();
        var current = new StringBuilder();
        void Flush()
        {
            string chunk = current.ToString().Trim();
            current.Clear();
            if (chunk.Length >= Math.Max(1, minChars) && LetterShare(chunk) >= 0.4) chunks.Add(chunk);
        }
        foreach (string sentence in Sentences(text))
        {
            foreach (string piece in CutLong(sentence, maxChars))
            {
                if (current.Length > 0 && current.Length + 1 + piece.Length > maxChars) Flush();
                if (current.Length > 0) current.Append(' ');
                current.Append(piece);
            }
        }
        Flush();
        return chunks;
    }

    /// <summary>The sentences of <paramref name="text"/>: split at line breaks and after <c>.</c>, <c>!</c> or <c>?</c> followed by whitespace, trimmed, empty ones skipped.</summary>
    public static IEnumerable<string> Sentences(string text)
    {
        foreach (string line in WhitespaceNormalizer.Normalize(text).Split('\n'))
            foreach (string sentence in SentenceEnd().Split(line))
                if (sentence.Trim().Length > 0) yield return sentence.Trim();
    }

    static IEnumerable<string> CutLong(string sentence, int maxChars)
    {
        var piece = new StringBuilder();
        foreach (string word in sentence.Split(' '))
        {
            for (int start = 0; start < word.Length; start += maxChars)
            {
                string part = word.Substring(start, Math.Min(maxChars, word.Length - start));
                if (piece.Length > 0 && piece.Length + 1 + part.Length > maxChars)
                {
                    yield return piece.ToString();
                    piece.Clear();
                }
                if (piece.Length > 0) piece.Append(' ');
                piece.Append(part);
            }
        }
        if (piece.Length > 0) yield return piece.ToString();
    }

    static double LetterShare(string chunk) => chunk.Count(char.IsLetter) / (double)chunk.Length;

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEnd();
}
