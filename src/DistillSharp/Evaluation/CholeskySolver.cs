namespace DistillSharp.Evaluation;

/// <summary>
/// Solves A x = b for a symmetric positive definite A by Cholesky factorization A = L Lᵀ
/// (Golub &amp; Van Loan, Alg. 4.2.1). If A is only semi-definite to rounding, a small ridge
/// (1e-10 × mean diagonal, growing ×100) is added until it factors.
/// </summary>
public static class CholeskySolver
{
    /// <summary>Returns x with A x = b; A is not modified.</summary>
    public static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        if (a.GetLength(0) != n || a.GetLength(1) != n)
            throw new ArgumentException($"matrix is {a.GetLength(0)}x{a.GetLength(1)}, right-hand side has {n} entries");
        double meanDiagonal = 0;
        for (int i = 0; i < n; i++) meanDiagonal += Math.Abs(a[i, i]) / n;
        double ridge = 0;
        for (int attempt = 0; attempt < 12; attempt++)
        {
            var l = Factor(a, ridge);
            if (l != null) return Substitute(l, b);
            ridge = ridge == 0 ? 1e-10 * Math.Max(meanDiagonal, 1e-300) : ridge * 100;
        }
        throw new InvalidOperationException("matrix is not positive definite even with a ridge");
    }

    static double[,]? Factor(double[,] a, double ridge)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            double diagonal = a[j, j] + ridge;
            for (int k = 0; k < j; k++) diagonal -= l[j, k] * l[j, k];
            if (!(diagonal > 0)) return null;
            l[j, j] = Math.Sqrt(diagonal);
            for (int i = j + 1; i < n; i++)
            {
                double sum = a[i, j];
                for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                l[i, j] = sum / l[j, j];
            }
        }
        return l;
    }

    static double[] Substitute(double[,] l, double[] b)
    {
        int n = b.Length;
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int k = 0; k < i; k++) sum -= l[i, k] * y[k];
            y[i] = sum / l[i, i];
        }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = y[i];
            for (int k = i + 1; k < n; k++) sum -= l[k, i] * x[k];
            x[i] = sum / l[i, i];
        }
        return x;
    }
}
