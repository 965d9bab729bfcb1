using System.Text;
using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

public class MailParserTests
{
    // Hand-written: folded headers, an RFC 2047 subject, multipart/alternative with a
    // quoted-printable text/plain part (soft line break, =E9 = é in Latin-1, =3D = '=') and an HTML part.
    const string Alternative = """
        From someone@example.com  Mon Aug 26 10:00:00 2002
        Received: from relay.example.com
        	by mail.example.com; Mon, 26 Aug 2002
        Subject: =?iso-8859-1?Q?Caf=E9_news?= for
         you
        Content-Type: multipart/alternative; boundary="b1"

        This is a MIME preamble.
        --b1
        Content-Type: text/plain; charset="iso-8859-1"
        Content-Transfer-Encoding: quoted-printable

        Bonjour, le caf=E9 est pr=
        =EAt.   Price: 5 =3D 5
        --b1
        Content-Type: text/html

        <html><body><p>HTML version</p></body></html>
        --b1--
        """;

    [Fact]
    public void AlternativePrefersPlainTextAndDecodesQuotedPrintable()
    {
        var mail = MailParser.Parse(Encoding.Latin1.GetBytes(Alternative));
        Assert.Equal("Café news for you", mail.Subject);
        Assert.Equal("Bonjour, le café est prêt. Price: 5 = 5", mail.Body);
        Assert.Equal("Café news for you\n\nBonjour, le café est prêt. Price: 5 = 5", mail.Text);
    }

    [Fact]
    public void MixedConcatenatesHtmlAndBase64TextAndSkipsImages()
    {
        string base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes("Grüße aus Köln."));
        string raw = $"""
            Subject: Offer
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: text/html; charset=us-ascii
            Content-Transfer-Encoding: quoted-printable

            <html><head><style>p {"{"} color: red {"}"}</style><title>Deal</title></head><body>
            <script type=3D"text/javascript">var x =3D 1;</script>
            <p><font color=3D"red">Buy&nbsp;now &amp; save&#33;</font></p><div>Limited &lt;offer&gt;</div><!-- hidden -->
            </body></html>
            --outer
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: base64

            {base64[..8]}
            {base64[8..]}
            --outer
            Content-Type: image/gif
            Content-Transfer-Encoding: base64

            R0lGODlhAQABAAAAACw=
            --outer--
            """;
        var mail = MailParser.Parse(Encoding.Latin1.GetBytes(raw));
        Assert.Equal("Offer", mail.Subject);
        Assert.Equal("Deal\nBuy now & save!\nLimited <offer>\n\nGrüße aus Köln.", mail.Body);
    }

    [Fact]
    public void HtmlSentAsPlainTextIsStrippedAndMissingHeadersAreEmpty()
    {
        var mail = MailParser.Parse("Content-Type: text/plain\n\n<html><body>Hi <b>there</b></body></html>");
        Assert.Equal("", mail.Subject);
        Assert.Equal("Hi there", mail.Body);
    }

    [Fact]
    public void MailForwardedWithoutMimeLosesItsInnerHeaders()
    {
        var mail = MailParser.Parse("Subject: outer\n\nReturn-Path: <a@b.c>\nReceived: from x\n  by y\nSubject: inner\n\nThe real text.\n");
        Assert.Equal("outer", mail.Subject);
        Assert.Equal("The real text.", mail.Body);
    }

    [Fact]
    public void MultipartWithoutItsBoundaryIsReadAsText()
    {
        var mail = MailParser.Parse("Content-Type: multipart/mixed; boundary=zzz\n\nplain words only\n");
        Assert.Equal("plain words only", mail.Body);
    }

    [Fact]
    public void QuotedPrintableKeepsBadEscapesAndJoinsSoftBreaks()
    {
        Assert.Equal("a=ZZb c", Encoding.Latin1.GetString(MimeDecoding.QuotedPrintable("a=ZZb=\r\n c")));
    }

    [Fact]
    public void Base64RepairsPaddingAndSkipsJunk()
    {
        Assert.Equal("hello", Encoding.ASCII.GetString(MimeDecoding.Base64("aGVs\n bG8")));
    }

    [Fact]
    public void CharsetFallsBackToWindows1252ForInvalidUtf8()
    {
        Assert.Equal("café", MimeDecoding.DecodeCharset([0x63, 0x61, 0x66, 0xE9], null));
        Assert.Equal("café", MimeDecoding.DecodeCharset([0x63, 0x61, 0x66, 0xC3, 0xA9], "x-unknown"));
        Assert.Equal("\u20AC", MimeDecoding.DecodeCharset([0x80], "windows-1252"));
    }

    [Fact]
    public void AdjacentEncodedWordsJoinWithoutTheSpaceBetween()
    {
        // "SGVsbG8=" is base64 of "Hello".
        Assert.Equal("Hello World again", MimeDecoding.DecodeHeader("=?utf-8?B?SGVsbG8=?= =?ISO-8859-1?Q?_World?= again"));
    }

    [Fact]
    public void WhitespaceNormalizerKeepsOneBlankLineBetweenParagraphs()
    {
        Assert.Equal("a b\nc\n\nd", WhitespaceNormalizer.Normalize("  a \t b \r\n c\n\n\n\u00A0\nd  \n\n"));
    }
}
