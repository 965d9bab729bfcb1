using ScottPlot;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// confusion_&lt;variant&gt;.png: the confusion matrix, rows = actual class (first at the top),
/// columns = predicted class, each row normalised to its support (the diagonal is per-class
/// recall), colour from 0 (white) to 1 (dark blue); with few classes every cell is labelled with its
/// count. Cells are drawn as rectangles so the orientation is the one stated here.
/// </summary>
public static class ConfusionMatrixPlot
{
    /// <summary>Classes up to which every cell carries its count.</summary>
    public const int AnnotateUpTo = 12;

    /// <summary>Writes the plot; the image grows with the number of classes.</summary>
    public static void Write(IReadOnlyList<string> labels, long[,] confusion, string title, string path)
    {
        int c = labels.Count;
        if (confusion.GetLength(0) != c || confusion.GetLength(1) != c)
            throw new ArgumentException($"confusion matrix is {confusion.GetLength(0)}×{confusion.GetLength(1)} for {c} labels");
        var plot = Figure.Create(title, "predicted class", "actual class");
        var dark = new Color(8, 48, 107);
        for (int a = 0; a < c; a++)
        {
            long support = 0;
            for (int p = 0; p < c; p++) support += confusion[a, p];
            double y = c - 1 - a;                                           // actual class a, first at the top
            for (int p = 0; p < c; p++)
            {
                double share = support == 0 ? 0 : confusion[a, p] / (double)support;
                var cell = plot.Add.Rectangle(p, p + 1, y, y + 1);
                cell.FillStyle.Color = Blend(Colors.White, dark, share);
                cell.LineStyle.Width = 0;
                if (c > AnnotateUpTo) continue;
                var text = plot.Add.Text(confusion[a, p].ToString(), p + 0.5, y + 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 16;
                text.LabelFontColor = share > 0.5 ? Colors.White : Colors.Black;
            }
        }
        double[] centers = Enumerable.Range(0, c).Select(i => i + 0.5).ToArray();
        plot.Axes.Bottom.SetTicks(centers, labels.ToArray());
        plot.Axes.Left.SetTicks(centers.Reverse().ToArray(), labels.ToArray());
        if (c > AnnotateUpTo)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
            plot.Axes.Left.TickLabelStyle.FontSize = 11;
            plot.Axes.Bottom.MinimumSize = 8 * labels.Max(l => l.Length) + 40;   // room for the rotated labels
        }
        plot.Axes.SetLimits(0, c, 0, c);
        plot.Grid.IsVisible = false;
        int side = Math.Max(640, 28 * c + 260);
        Figure.Save(plot, path, side, side);
    }

    static Color Blend(Color from, Color to, double t)
    {
        t = Math.Clamp(t, 0, 1);
        byte Mix(byte a, byte b) => (byte)Math.Round(a + (b - a) * t);
        return new Color(Mix(from.R, to.R), Mix(from.G, to.G), Mix(from.B, to.B));
    }
}
