using System.Net;
using System.Text.RegularExpressions;

namespace DistillSharp.Data;

/// <summary>
/// Turns HTML (as found in mail) into plain text: comments, <c>script</c> and
/// <c>style</c> elements are dropped, block-level tags become line breaks (no blank lines), other tags vanish,
/// entities (named and numeric) are decoded and whitespace is normalized. Regular expressions are
/// enough here: mail HTML is often malformed and we want words, not a DOM.
/// </summary>
public static partial class HtmlText
{
    /// <summary>True when plain text is really HTML (some spam sends HTML as text/plain).</summary>
    public static bool LooksLikeHtml(string text) =>
        text.Contains("<html", StringComparison.OrdinalIgnoreCase) || text.Contains("<body", StringComparison.OrdinalIgnoreCase)
        || BlockTag().Matches(text).Count >= 3;

    /// <summary>The readable text of an HTML document or fragment.</summary>
    public static string ToText(string html)
    {
        string text = Comment().Replace(html, " ");
        text = HiddenElement().Replace(text, " ");
        text = BlockTag().Replace(text, "\n");
        text = AnyTag().Replace(text, "");
        text = WebUtility.HtmlDecode(text);
        // Block tags come in runs (</p><div>), so blank lines carry no meaning in HTML: drop them.
        return WhitespaceNormalizer.Normalize(text).Replace("\n\n", "\n");
    }

    [GeneratedRegex("<!--.*?(-->|$)", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex HiddenElement();

    [GeneratedRegex(@"</?(br|p|div|tr|li|ul|ol|table|h[1-6]|hr|blockquote|pre|center)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"<[a-zA-Z/!?][^>]*>")]
    private static partial Regex AnyTag();
}
