using System.Globalization;

namespace DistillSharp.Reports;

/// <summary>
/// How numbers read in report.md: invariant culture, as many decimals as the magnitude needs,
/// "—" for anything missing or non-finite.
/// </summary>
public static class ReportFormat
{
    /// <summary>Shown for a missing value.</summary>
    public const string Missing = "—";

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    static bool Has(double? v, out double x)
    {
        x = v ?? double.NaN;
        return double.IsFinite(x);
    }

    /// <summary>Fixed decimals: 0.631.</summary>
    public static string Fixed(double? v, int decimals = 3) =>
        Has(v, out double x) ? x.ToString("F" + decimals, Inv) : Missing;

    /// <summary>Three significant-ish digits for values of any size: 0.0123, 1.23, 12.3, 1,234.</summary>
    public static string Auto(double? v)
    {
        if (!Has(v, out double x)) return Missing;
        double a = Math.Abs(x);
        return a == 0 ? "0"
            : a >= 1000 ? x.ToString("N0", Inv)
            : a >= 100 ? x.ToString("F0", Inv)
            : a >= 10 ? x.ToString("F1", Inv)
            : a >= 1 ? x.ToString("F2", Inv)
            : a >= 0.001 ? x.ToString("0.###", Inv)
            : x.ToString("0.00e+0", Inv);
    }

    /// <summary>Parameter count: 22.71 M, 850.0 k, 512.</summary>
    public static string Params(long? n) => n switch
    {
        null => Missing,
        >= 1_000_000 => (n.Value / 1e6).ToString("F2", Inv) + " M",
        >= 10_000 => (n.Value / 1e3).ToString("F1", Inv) + " k",
        _ => n.Value.ToString(Inv),
    };

    /// <summary>Bytes as megabytes (10^6 bytes).</summary>
    public static string Megabytes(long? bytes) => bytes is long b ? Auto(b / 1e6) : Missing;

    /// <summary>A ratio as a multiplier: 3.2×.</summary>
    public static string Times(double? v) =>
        Has(v, out double x) ? (x >= 10 ? x.ToString("F1", Inv) : x.ToString("F2", Inv)) + "×" : Missing;

    /// <summary>A fraction as a percentage: 0.971 → 97.1%.</summary>
    public static string Percent(double? v) => Has(v, out double x) ? (100 * x).ToString("F1", Inv) + "%" : Missing;

    /// <summary>a / b, or null when either is missing or b is zero.</summary>
    public static double? Ratio(double? a, double? b) =>
        a is double x && b is double y && y != 0 && double.IsFinite(x) && double.IsFinite(y) ? x / y : null;

    /// <summary>Seconds as 12.3 s, 4 min 05 s or 1 h 02 min.</summary>
    public static string Duration(double? seconds)
    {
        if (!Has(seconds, out double s)) return Missing;
        if (s < 60) return Auto(s) + " s";
        var t = TimeSpan.FromSeconds(s);
        return t.TotalHours >= 1
            ? string.Create(Inv, $"{(int)t.TotalHours} h {t.Minutes:00} min")
            : string.Create(Inv, $"{t.Minutes} min {t.Seconds:00} s");
    }

    /// <summary>A number with its unit, when there is one: "4.20 ms".</summary>
    public static string WithUnit(double? v, string? unit)
    {
        string n = Auto(v);
        if (n == Missing || string.IsNullOrEmpty(unit)) return n;
        return unit is "×" or "%" ? n + unit : n + " " + unit;
    }

    /// <summary>Escapes the characters that would break a markdown table cell.</summary>
    public static string Cell(string? text) =>
        string.IsNullOrEmpty(text) ? Missing : text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
}
