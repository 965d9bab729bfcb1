namespace DistillSharp.Evaluation.Classifier;

/// <summary>
/// Multi-class classification counts: the confusion matrix (row = actual class, column = predicted)
/// and the metrics scikit-learn computes from it — accuracy, per-class F1 = 2TP / (2TP + FP + FN)
/// (0 for a class neither predicted nor present), and macro-F1 = the unweighted mean of per-class F1
/// over the classes that occur among the actual or predicted labels (sklearn's f1_score(average=
/// "macro") with its default label set).
/// </summary>
public sealed class MulticlassMetrics
{
    MulticlassMetrics(long[,] confusion) => Confusion = confusion;

    /// <summary>confusion[actual, predicted] counts.</summary>
    public long[,] Confusion { get; }

    /// <summary>Number of classes C.</summary>
    public int Classes => Confusion.GetLength(0);

    /// <summary>Counts the examples <paramref name="sample"/> (indices into both arrays; null = all, each once).</summary>
    public static MulticlassMetrics Count(IReadOnlyList<int> predicted, IReadOnlyList<int> actual, int classes, IReadOnlyList<int>? sample = null)
    {
        if (predicted.Count != actual.Count) throw new ArgumentException($"{predicted.Count} predictions for {actual.Count} labels");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "at least one class");
        var confusion = new long[classes, classes];
        int n = sample?.Count ?? actual.Count;
        for (int j = 0; j < n; j++)
        {
            int k = sample?[j] ?? j;
            int a = actual[k], p = predicted[k];
            if ((uint)a >= (uint)classes || (uint)p >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(actual), $"example {k}: class {a} or prediction {p} outside 0..{classes - 1}");
            confusion[a, p]++;
        }
        return new MulticlassMetrics(confusion);
    }

    /// <summary>Examples counted.</summary>
    public long Total
    {
        get
        {
            long n = 0;
            foreach (long v in Confusion) n += v;
            return n;
        }
    }

    /// <summary>Share of correct predictions.</summary>
    public double Accuracy
    {
        get
        {
            long correct = 0;
            for (int c = 0; c < Classes; c++) correct += Confusion[c, c];
            return correct / (double)Math.Max(1, Total);
        }
    }

    /// <summary>Examples whose actual class is <paramref name="c"/>.</summary>
    public long Support(int c)
    {
        long s = 0;
        for (int p = 0; p < Classes; p++) s += Confusion[c, p];
        return s;
    }

    /// <summary>Examples predicted as <paramref name="c"/>.</summary>
    public long Predicted(int c)
    {
        long s = 0;
        for (int a = 0; a < Classes; a++) s += Confusion[a, c];
        return s;
    }

    /// <summary>F1 of class <paramref name="c"/>: 2TP / (support + predicted); 0 when both are 0.</summary>
    public double F1(int c)
    {
        long denominator = Support(c) + Predicted(c);
        return denominator == 0 ? 0 : 2.0 * Confusion[c, c] / denominator;
    }

    /// <summary>Per-class F1 for every class.</summary>
    public double[] PerClassF1() => Enumerable.Range(0, Classes).Select(F1).ToArray();

    /// <summary>Mean F1 over the classes that are actual or predicted at least once.</summary>
    public double MacroF1
    {
        get
        {
            double sum = 0;
            int present = 0;
            for (int c = 0; c < Classes; c++)
            {
                long sp = Support(c) + Predicted(c);
                if (sp == 0) continue;
                sum += 2.0 * Confusion[c, c] / sp;
                present++;
            }
            return present == 0 ? 0 : sum / present;
        }
    }
}
