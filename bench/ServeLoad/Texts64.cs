using DistillSharp.Data;
using DistillSharp.Runtime.Tokenization;

namespace ServeLoad;

/// <summary>
/// The load's texts: SpamAssassin mails (subject + body, whitespace folded to one line) cut at a
/// word boundary to 60–64 WordPiece tokens of the student's vocabulary, [CLS] and [SEP] included —
/// the "64-token mails" of the benchmark. Deterministic: the corpus order, the first <c>count</c> that fit.
/// </summary>
static class Texts64
{
    public static List<string> Make(string vocabPath, int count, TextWriter log)
    {
        var tokenizer = new BertTextTokenizer(File.ReadAllText(vocabPath), lowerCase: true, maxLength: 4096, vocabPath);
        var texts = new List<string>();
        foreach (var mail in SpamCorpus.Load(log))
        {
            var words = mail.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            int lo = 0, hi = Math.Min(words.Length, 200);
            while (lo < hi)   // most words whose text has at most 64 tokens
            {
                int mid = (lo + hi + 1) / 2;
                if (tokenizer.Encode(string.Join(' ', words.Take(mid))).Count <= 64) lo = mid; else hi = mid - 1;
            }
            string text = string.Join(' ', words.Take(lo));
            if (tokenizer.Encode(text).Count >= 60) texts.Add(text);
            if (texts.Count == count) break;
        }
        return texts;
    }
}
