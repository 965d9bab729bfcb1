using System.Text;
using System.Text.RegularExpressions;

namespace DistillSharp.Data;

/// <summary>
/// The decoders mail text needs: quoted-printable and base64 transfer encodings (RFC 2045),
/// encoded words in headers (RFC 2047) and charsets. Everything is lenient: real mail is full of
/// small violations, and a best-effort decode beats dropping the message.
/// </summary>
public static partial class MimeDecoding
{
    static MimeDecoding() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Latin-1 maps bytes 1:1 to chars, so raw mail can be handled as a string and back.</summary>
    public static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>Decodes quoted-printable text ("=" soft line breaks, "=XX" bytes); a bad escape stays literal.</summary>
    public static byte[] QuotedPrintable(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '=')
            {
                bytes.Add((byte)(c <= 0xFF ? c : '?'));
                continue;
            }
            int end = i + 1;
            while (end < text.Length && (text[end] == ' ' || text[end] == '\t')) end++;
            if (end < text.Length && (text[end] == '\n' || text[end] == '\r'))
            {
                i = text[end] == '\r' && end + 1 < text.Length && text[end + 1] == '\n' ? end + 1 : end;
                continue;
            }
            if (i + 2 < text.Length && char.IsAsciiHexDigit(text[i + 1]) && char.IsAsciiHexDigit(text[i + 2]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            bytes.Add((byte)'=');
        }
        return bytes.ToArray();
    }

    /// <summary>Decodes base64, skipping characters outside the alphabet and repairing missing padding.</summary>
    public static byte[] Base64(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (char c in text)
            if (char.IsAsciiLetterOrDigit(c) || c == '+' || c == '/') clean.Append(c);
        if (clean.Length % 4 == 1) clean.Length--;
        while (clean.Length % 4 != 0) clean.Append('=');
        return Convert.FromBase64String(clean.ToString());
    }

    /// <summary>
    /// Decodes bytes in a declared charset. Without a usable declaration: UTF-8 when the bytes are
    /// valid UTF-8, otherwise Windows-1252 (a superset of Latin-1 that most such mail really is).
    /// </summary>
    public static string DecodeCharset(byte[] bytes, string? charset)
    {
        if (!string.IsNullOrWhiteSpace(charset))
        {
            try
            {
                var encoding = Encoding.GetEncoding(charset.Trim().Trim('"'));
                if (encoding.CodePage != Encoding.ASCII.CodePage) return encoding.GetString(bytes);
            }
            catch (ArgumentException)
            {
                // Unknown label such as "x-unknown" or "default": fall through to detection.
            }
        }
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.GetEncoding(1252).GetString(bytes);
        }
    }

    /// <summary>Decodes a raw header value: RFC 2047 encoded words, then unknown 8-bit bytes as in <see cref="DecodeCharset"/>.</summary>
    public static string DecodeHeader(string raw)
    {
        // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
        string joined = BetweenEncodedWords().Replace(raw, "?==?");
        var result = new StringBuilder();
        int last = 0;
        foreach (Match m in EncodedWord().Matches(joined))
        {
            result.Append(DecodeCharset(Latin1.GetBytes(joined[last..m.Index]), null));
            string charset = m.Groups[1].Value, payload = m.Groups[3].Value;
            byte[] bytes = char.ToUpperInvariant(m.Groups[2].Value[0]) == 'B'
                ? Base64(payload)
                : QuotedPrintable(payload.Replace('_', ' '));
            result.Append(DecodeCharset(bytes, charset));
            last = m.Index + m.Length;
        }
        result.Append(DecodeCharset(Latin1.GetBytes(joined[last..]), null));
        return WhitespaceNormalizer.SingleLine(result.ToString());
    }

    static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    [GeneratedRegex(@"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")]
    private static partial Regex EncodedWord();

    [GeneratedRegex(@"\?=\s+=\?")]
    private static partial Regex BetweenEncodedWords();
}
