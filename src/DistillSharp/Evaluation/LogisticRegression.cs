using System.Numerics;

namespace DistillSharp.Evaluation;

/// <summary>Settings of <see cref="LogisticRegression"/>.</summary>
/// <param name="C">Inverse regularization strength, as in scikit-learn: the objective is ½‖w‖² + C·Σ log-loss. 1.0 by default (a fixed value, no inner CV).</param>
/// <param name="MaxIterations">Newton steps at most.</param>
/// <param name="Tolerance">Stop when the largest gradient component is below this.</param>
public sealed record LogisticRegressionOptions(double C = 1.0, int MaxIterations = 50, double Tolerance = 1e-8);

/// <summary>
/// Binary L2-regularized logistic regression on standardized features (z-scores with the training
/// mean and population standard deviation), fitted by Newton's method with a backtracking line
/// search. The objective ½‖w‖² + C Σᵢ [log(1 + e^{sᵢ}) − yᵢ sᵢ], sᵢ = w·zᵢ + b, is strictly convex
/// in w (the bias is not penalized), so the result is unique and the fit deterministic.
/// Each step builds the (d+1)² Hessian: fine for embedding sizes up to ~1,000.
/// </summary>
public sealed class LogisticRegression
{
    /// <summary>Weights on standardized features.</summary>
    public double[] Weights { get; }

    /// <summary>Intercept.</summary>
    public double Bias { get; }

    /// <summary>Training feature means.</summary>
    public double[] Mean { get; }

    /// <summary>Training feature standard deviations (1 where a feature is constant).</summary>
    public double[] Scale { get; }

    /// <summary>Newton steps taken.</summary>
    public int Iterations { get; }

    LogisticRegression(double[] weights, double bias, double[] mean, double[] scale, int iterations)
    {
        (Weights, Bias, Mean, Scale, Iterations) = (weights, bias, mean, scale, iterations);
    }

    /// <summary>P(label = true | x).</summary>
    public double PredictProbability(float[] x)
    {
        if (x.Length != Weights.Length) throw new ArgumentException($"feature vector has length {x.Length}, the model expects {Weights.Length}");
        double s = Bias;
        for (int j = 0; j < x.Length; j++) s += Weights[j] * (x[j] - Mean[j]) / Scale[j];
        return Sigmoid(s);
    }

    /// <summary>True when P ≥ 0.5.</summary>
    public bool Predict(float[] x) => PredictProbability(x) >= 0.5;

    /// <summary>Fits the model; needs at least one example of each label.</summary>
    public static LogisticRegression Fit(IReadOnlyList<float[]> x, IReadOnlyList<bool> y, LogisticRegressionOptions? options = null)
    {
        options ??= new LogisticRegressionOptions();
        if (options.C <= 0) throw new DistillSharpException($"logistic regression C {options.C} must be > 0");
        if (x.Count != y.Count || x.Count == 0) throw new ArgumentException($"{x.Count} feature vectors and {y.Count} labels; need the same non-zero number");
        if (y.All(v => v) || y.All(v => !v)) throw new ArgumentException("logistic regression needs examples of both labels");
        int n = x.Count, d = x[0].Length, p = d + 1;
        var (mean, scale) = Standardization(x, d);
        var z = new double[n][]; // standardized features with a trailing 1 for the bias
        for (int i = 0; i < n; i++)
        {
            if (x[i].Length != d) throw new ArgumentException($"feature vector {i} has length {x[i].Length}, expected {d}");
            z[i] = new double[p];
            for (int j = 0; j < d; j++) z[i][j] = (x[i][j] - mean[j]) / scale[j];
            z[i][d] = 1;
        }
        var theta = new double[p];
        double objective = Objective(theta, z, y, options.C, d);
        int iteration = 0;
        for (; iteration < options.MaxIterations; iteration++)
        {
            var (gradient, hessian) = GradientAndHessian(theta, z, y, options.C, d);
            if (gradient.Max(Math.Abs) < options.Tolerance) break;
            double[] step = CholeskySolver.Solve(hessian, gradient);
            double t = 1, slope = gradient.Zip(step, (g, s) => g * s).Sum();
            double[] candidate;
            double next;
            while (true) // backtracking (Armijo) line search along −step
            {
                candidate = theta.Zip(step, (th, s) => th - t * s).ToArray();
                next = Objective(candidate, z, y, options.C, d);
                if (next <= objective - 1e-4 * t * slope || t < 1e-10) break;
                t /= 2;
            }
            theta = candidate;
            if (objective - next < 1e-15 * Math.Max(1, Math.Abs(objective))) { objective = next; iteration++; break; }
            objective = next;
        }
        return new LogisticRegression(theta[..d], theta[d], mean, scale, iteration);
    }

    static (double[] Mean, double[] Scale) Standardization(IReadOnlyList<float[]> x, int d)
    {
        var mean = new double[d];
        var scale = new double[d];
        foreach (var row in x) for (int j = 0; j < d; j++) mean[j] += row[j] / (double)x.Count;
        foreach (var row in x) for (int j = 0; j < d; j++) scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / x.Count;
        for (int j = 0; j < d; j++) scale[j] = scale[j] > 1e-24 ? Math.Sqrt(scale[j]) : 1;
        return (mean, scale);
    }

    static double Objective(double[] theta, double[][] z, IReadOnlyList<bool> y, double c, int d)
    {
        double loss = 0;
        for (int i = 0; i < z.Length; i++)
        {
            double s = Dot(theta, z[i]);
            loss += Softplus(s) - (y[i] ? s : 0);
        }
        double penalty = 0;
        for (int j = 0; j < d; j++) penalty += theta[j] * theta[j];
        return 0.5 * penalty + c * loss;
    }

    static (double[] Gradient, double[,] Hessian) GradientAndHessian(double[] theta, double[][] z, IReadOnlyList<bool> y, double c, int d)
    {
        int p = d + 1;
        var gradient = new double[p];
        var hessian = new double[p, p];
        for (int j = 0; j < d; j++) { gradient[j] = theta[j]; hessian[j, j] = 1; }
        var upper = new double[p][]; // upper triangle, row a holds columns a..p-1
        for (int a = 0; a < p; a++) upper[a] = new double[p - a];
        for (int i = 0; i < z.Length; i++)
        {
            double prob = Sigmoid(Dot(theta, z[i]));
            double residual = c * (prob - (y[i] ? 1 : 0)), weight = c * prob * (1 - prob);
            var zi = z[i];
            for (int a = 0; a < p; a++)
            {
                gradient[a] += residual * zi[a];
                AddScaled(upper[a], zi.AsSpan(a), weight * zi[a]);
            }
        }
        for (int a = 0; a < p; a++)
            for (int b = a; b < p; b++)
            {
                hessian[a, b] += upper[a][b - a];
                hessian[b, a] = hessian[a, b];
            }
        return (gradient, hessian);
    }

    static void AddScaled(Span<double> target, ReadOnlySpan<double> source, double factor)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var f = new Vector<double>(factor);
            for (; i <= target.Length - Vector<double>.Count; i += Vector<double>.Count)
                (new Vector<double>(target[i..]) + f * new Vector<double>(source[i..])).CopyTo(target[i..]);
        }
        for (; i < target.Length; i++) target[i] += factor * source[i];
    }

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    static double Sigmoid(double s) => s >= 0 ? 1 / (1 + Math.Exp(-s)) : Math.Exp(s) / (1 + Math.Exp(s));

    static double Softplus(double s) => s > 0 ? s + Math.Log(1 + Math.Exp(-s)) : Math.Log(1 + Math.Exp(s));
}
