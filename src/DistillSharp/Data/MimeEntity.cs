namespace DistillSharp.Data;

/// <summary>
/// One MIME entity (a whole mail or one part): unfolded headers and the raw body, held as Latin-1
/// strings so that bytes survive until the part's charset is known.
/// </summary>
public sealed class MimeEntity
{
    /// <summary>Headers by lower-case name; the first occurrence wins.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The raw body after the blank line that ends the headers.</summary>
    public string Body { get; }

    MimeEntity(Dictionary<string, string> headers, string body)
    {
        Headers = headers;
        Body = body;
    }

    /// <summary>Splits raw text into headers and body; a missing blank line means "all headers".</summary>
    public static MimeEntity Read(string raw)
    {
        string text = raw.Replace("\r\n", "\n");
        int split = text.StartsWith('\n') ? 0 : text.IndexOf("\n\n", StringComparison.Ordinal);
        string head = split < 0 ? text : text[..split];
        string body = split < 0 ? "" : text[(split + (split == 0 ? 1 : 2))..];
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        string? name = null;
        string value = "";
        foreach (string line in head.Split('\n'))
        {
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && name != null)
            {
                value += " " + line.Trim(); // folded continuation line
                continue;
            }
            if (name != null) headers.TryAdd(name, value);
            int colon = line.IndexOf(':');
            // "From sender date" mbox separator lines and other junk have no "Name:" form.
            name = colon > 0 && !line[..colon].Contains(' ') ? line[..colon].Trim().ToLowerInvariant() : null;
            value = name != null ? line[(colon + 1)..].Trim() : "";
        }
        if (name != null) headers.TryAdd(name, value);
        return new MimeEntity(headers, body);
    }

    /// <summary>Lower-case media type from Content-Type; text/plain when absent (RFC 2045 default).</summary>
    public string MediaType
    {
        get
        {
            if (!Headers.TryGetValue("content-type", out string? ct)) return "text/plain";
            string type = ct.Split(';')[0].Trim().ToLowerInvariant();
            return type.Contains('/') ? type : "text/plain";
        }
    }

    /// <summary>A Content-Type parameter (charset, boundary), unquoted; null when absent.</summary>
    public string? ContentTypeParameter(string parameter)
    {
        if (!Headers.TryGetValue("content-type", out string? ct)) return null;
        foreach (string piece in ct.Split(';').Skip(1))
        {
            int eq = piece.IndexOf('=');
            if (eq <= 0 || !piece[..eq].Trim().Equals(parameter, StringComparison.OrdinalIgnoreCase)) continue;
            string v = piece[(eq + 1)..].Trim();
            return v.Length >= 2 && v[0] == '"' ? v[1..].Split('"')[0] : v;
        }
        return null;
    }

    /// <summary>The body bytes after undoing Content-Transfer-Encoding (quoted-printable, base64, else as is).</summary>
    public byte[] DecodedBodyBytes()
    {
        string encoding = Headers.TryGetValue("content-transfer-encoding", out string? e) ? e.Trim().ToLowerInvariant() : "";
        try
        {
            if (encoding == "quoted-printable") return MimeDecoding.QuotedPrintable(Body);
            if (encoding == "base64") return MimeDecoding.Base64(Body);
        }
        catch (FormatException)
        {
            return [];
        }
        return MimeDecoding.Latin1.GetBytes(Body);
    }

    /// <summary>The parts of a multipart entity, or null when its boundary is missing or never occurs.</summary>
    public IReadOnlyList<MimeEntity>? Parts()
    {
        string? boundary = ContentTypeParameter("boundary");
        if (string.IsNullOrEmpty(boundary)) return null;
        string delimiter = "--" + boundary;
        var parts = new List<MimeEntity>();
        List<string>? current = null;
        bool seen = false;
        foreach (string line in Body.Split('\n'))
        {
            if (line.StartsWith(delimiter, StringComparison.Ordinal))
            {
                seen = true;
                if (current != null) parts.Add(Read(string.Join("\n", current)));
                bool closing = line.AsSpan(delimiter.Length).StartsWith("--");
                current = closing ? null : [];
                if (closing) break;
                continue;
            }
            current?.Add(line);
        }
        if (current != null) parts.Add(Read(string.Join("\n", current))); // unterminated last part
        return seen ? parts : null;
    }
}
