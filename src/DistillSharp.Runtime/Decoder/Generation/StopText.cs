using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Runtime.Decoder.Generation;

/// <summary>
/// The visible text of one generated sequence, shared by every generation loop (TorchSharp's
/// TextGenerator, the server's INT8 loop): re-decoded after each token (so multi-byte characters
/// come out whole), cut before the first stop string, and streamed as settled pieces — an
/// incomplete UTF-8 character or a tail that may still grow into a stop string is held back until
/// the sequence ends. A final stop token (EOS) is not part of the text.
/// </summary>
public sealed class StopText(DecoderTokenizer tokenizer, IReadOnlyList<string> stops)
{
    readonly List<int> _ids = [];
    int _emitted;

    /// <summary>The text so far (cut at a stop string once one appeared).</summary>
    public string Text { get; private set; } = "";
    /// <summary>Whether a stop string ended the text.</summary>
    public bool HitStopString { get; private set; }

    /// <summary>
    /// Adds the next generated token (<paramref name="isStopToken"/>: an EOS, kept out of the text;
    /// <paramref name="finished"/>: the sequence ends with it) and returns the newly settled text —
    /// all that is left once the sequence finished or a stop string appeared.
    /// </summary>
    public string Add(int token, bool isStopToken, bool finished)
    {
        if (HitStopString) return "";
        if (!isStopToken) _ids.Add(token);
        string text = tokenizer.Decode(_ids);
        int settled = text.Length;
        foreach (var stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && at < settled)
            {
                settled = at;
                HitStopString = true;
            }
        }
        if (HitStopString) text = text[..settled];
        else if (!finished)
        {
            if (settled > 0 && text[settled - 1] == '\uFFFD') settled--;
            foreach (var stop in stops)
                for (int k = Math.Min(stop.Length - 1, settled); k > 0; k--)
                    if (string.CompareOrdinal(text, settled - k, stop, 0, k) == 0) { settled = Math.Min(settled, text.Length - k); break; }
        }
        Text = text;
        if (HitStopString || finished) settled = text.Length;
        if (settled <= _emitted) return "";
        string piece = text[_emitted..settled];
        _emitted = settled;
        return piece;
    }
}
