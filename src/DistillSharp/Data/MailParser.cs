namespace DistillSharp.Data;

/// <summary>A mail reduced to what an embedding model should read.</summary>
/// <param name="Subject">Decoded subject on one line ("" when absent).</param>
/// <param name="Body">Readable body text: headers gone, HTML stripped, whitespace normalized.</param>
public sealed record ParsedMail(string Subject, string Body)
{
    /// <summary>Subject and body as one text (subject first, then a blank line).</summary>
    public string Text => Subject.Length == 0 ? Body : Body.Length == 0 ? Subject : Subject + "\n\n" + Body;
}

/// <summary>
/// Parses raw RFC 822 / MIME mail into <see cref="ParsedMail"/>. Multipart: in
/// <c>multipart/alternative</c> the text/plain part wins over text/html; other multiparts
/// concatenate their text parts; <c>message/rfc822</c> parts (and plain bodies that start with Return-Path/Received headers, i.e. mails forwarded without MIME) contribute their body; non-text parts
/// (images, applications) are skipped. Parts are decoded from quoted-printable or base64 and
/// from their charset; HTML (also HTML sent as text/plain) is converted to text.
/// </summary>
public static class MailParser
{
    /// <summary>Parses a raw mail file.</summary>
    public static ParsedMail Parse(byte[] raw) => Parse(MimeDecoding.Latin1.GetString(raw));

    /// <summary>Parses raw mail held as a Latin-1 string (one char per byte).</summary>
    public static ParsedMail Parse(string raw)
    {
        var entity = MimeEntity.Read(raw);
        string subject = entity.Headers.TryGetValue("subject", out string? s) ? MimeDecoding.DecodeHeader(s) : "";
        var pieces = new List<string>();
        CollectText(entity, pieces, depth: 0);
        string body = WhitespaceNormalizer.Normalize(string.Join("\n\n", pieces));
        return new ParsedMail(subject, body);
    }

    const int MaxDepth = 8;

    static void CollectText(MimeEntity entity, List<string> pieces, int depth)
    {
        if (depth > MaxDepth) return;
        string type = entity.MediaType;
        if (type.StartsWith("multipart/", StringComparison.Ordinal))
        {
            var parts = entity.Parts();
            if (parts == null)
            {
                AddLeaf(entity, pieces); // boundary missing: read it as text
                return;
            }
            if (type == "multipart/alternative")
            {
                var chosen = parts.FirstOrDefault(p => p.MediaType == "text/plain" && LeafText(p).Length > 0)
                    ?? parts.FirstOrDefault(p => p.MediaType == "text/html")
                    ?? parts.FirstOrDefault(p => p.MediaType.StartsWith("multipart/", StringComparison.Ordinal));
                if (chosen != null) CollectText(chosen, pieces, depth + 1);
                return;
            }
            foreach (var part in parts) CollectText(part, pieces, depth + 1);
            return;
        }
        if (type == "message/rfc822" || type == "text/plain" && LooksLikeEmbeddedMail(entity.Body))
        {
            CollectText(MimeEntity.Read(entity.Body), pieces, depth + 1);
            return;
        }
        if (type is "text/plain" or "text/html") AddLeaf(entity, pieces);
    }

    /// <summary>A plain body that starts with transport headers is a mail forwarded without MIME (seen in spam-2).</summary>
    static bool LooksLikeEmbeddedMail(string body)
    {
        string start = body.TrimStart('\n', '\r');
        return start.StartsWith("Return-Path:", StringComparison.OrdinalIgnoreCase)
            || start.StartsWith("Received:", StringComparison.OrdinalIgnoreCase);
    }

    static void AddLeaf(MimeEntity entity, List<string> pieces)
    {
        string text = LeafText(entity);
        if (text.Length > 0) pieces.Add(text);
    }

    static string LeafText(MimeEntity entity)
    {
        string decoded = MimeDecoding.DecodeCharset(entity.DecodedBodyBytes(), entity.ContentTypeParameter("charset"));
        bool html = entity.MediaType == "text/html" || HtmlText.LooksLikeHtml(decoded);
        return html ? HtmlText.ToText(decoded) : WhitespaceNormalizer.Normalize(decoded);
    }
}
