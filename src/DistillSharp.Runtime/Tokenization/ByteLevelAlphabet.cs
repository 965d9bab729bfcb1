using System.Text;

namespace DistillSharp.Runtime.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet: every byte maps to one printable character so that BPE works on
/// strings. Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves, the other 68
/// bytes to U+0100 onwards in byte order (space → 'Ġ', newline → 'Ċ').
/// </summary>
public static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = BuildTable();
    static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    static char[] BuildTable()
    {
        var table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)(256 + next++);
        }
        return table;
    }

    /// <summary>The character standing for byte <paramref name="b"/>.</summary>
    public static char Char(byte b) => ByteToChar[b];

    /// <summary>The 256 characters in byte order.</summary>
    public static IEnumerable<string> All => ByteToChar.Select(c => c.ToString());

    /// <summary>UTF-8 bytes of <paramref name="text"/> as alphabet characters.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the bytes that a token string of alphabet characters stands for; false if a character is outside the alphabet.</summary>
    public static bool AppendBytes(string token, List<byte> output)
    {
        foreach (char c in token)
        {
            if (!CharToByte.TryGetValue(c, out byte b)) return false;
            output.Add(b);
        }
        return true;
    }
}
