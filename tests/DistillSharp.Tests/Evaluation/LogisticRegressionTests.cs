using DistillSharp.Runtime;
using DistillSharp.Evaluation;

namespace DistillSharp.Tests.Evaluation;

public class LogisticRegressionTests
{
    [Fact]
    public void HandCheckedTwoPointProblem()
    {
        // x = -1 (false), +1 (true): standardized z = x (mean 0, population std 1). By symmetry b = 0
        // and the objective ½w² + 2·log(1 + e^{-w}) (C = 1) is stationary where w = 2·σ(−w).
        // Fixed-point iteration of that equation by hand/calculator: w = 0.6748316, σ(w) = 0.6625842.
        var model = LogisticRegression.Fit([[-1f], [1f]], [false, true]);
        Assert.Equal(0.6748316, model.Weights[0], 6);
        Assert.Equal(0.0, model.Bias, 9);
        Assert.Equal(0.6625842, model.PredictProbability([1f]), 6);
        Assert.Equal(1 - 0.6625842, model.PredictProbability([-1f]), 6);
        Assert.Equal(2 * (1 / (1 + Math.Exp(model.Weights[0]))), model.Weights[0], 9); // stationarity
    }

    [Fact]
    public void ScaleAndShiftOfFeaturesDoNotMatter()
    {
        // Standardization makes x = 99 ± 10 the same problem as ±1.
        var model = LogisticRegression.Fit([[89f], [109f]], [false, true]);
        Assert.Equal(0.6625842, model.PredictProbability([109f]), 6);
    }

    [Fact]
    public void PlantedLinearlySeparableProblemIsSolvedExactly()
    {
        // Labels from a fixed hyperplane in 8-D; points within 0.3 of it are dropped so a margin exists.
        var random = new SplitMix64(5);
        float[] normal = [1, -2, 0.5f, 0, 3, -1, 0.25f, 2];
        (List<float[]> X, List<bool> Y) Sample(int n)
        {
            var xs = new List<float[]>();
            var ys = new List<bool>();
            while (xs.Count < n)
            {
                var x = Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
                double s = x.Zip(normal, (a, b) => (double)a * b).Sum() + 0.5;
                if (Math.Abs(s) < 0.3 * Math.Sqrt(normal.Sum(v => v * v))) continue;
                xs.Add(x);
                ys.Add(s > 0);
            }
            return (xs, ys);
        }
        var (trainX, trainY) = Sample(300);
        var (testX, testY) = Sample(200);
        var model = LogisticRegression.Fit(trainX, trainY, new LogisticRegressionOptions(C: 100));
        Assert.Equal(1.0, ClassificationMetrics.Count(trainX.Select(model.Predict).ToList(), trainY).Accuracy);
        Assert.Equal(1.0, ClassificationMetrics.Count(testX.Select(model.Predict).ToList(), testY).Accuracy);
        Assert.InRange(model.Iterations, 1, 49);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[1f], [2f]], [true, true]));
        Assert.Contains("C 0 must be > 0", Assert.Throws<DistillSharpException>(() => LogisticRegression.Fit([[1f], [2f]], [true, false], new LogisticRegressionOptions(C: 0))).Message);
    }

    [Fact]
    public void F1AndAccuracyFromCounts()
    {
        // predicted T,T,F,F vs actual T,F,T,F: TP 1, FP 1, FN 1, TN 1 → F1 = 2/(2+1+1) = 0.5, accuracy 0.5.
        var m = ClassificationMetrics.Count([true, true, false, false], [true, false, true, false]);
        Assert.Equal(new ClassificationMetrics(1, 1, 1, 1), m);
        Assert.Equal(0.5, m.F1, 12);
        Assert.Equal(0.5, m.Accuracy, 12);
    }

    [Fact]
    public void CholeskySolvesASmallSystem()
    {
        // [[4,2],[2,3]] x = [2, 1] → x = [0.5, 0] (check: 4·0.5 = 2, 2·0.5 = 1).
        Assert.Equal([0.5, 0.0], CholeskySolver.Solve(new double[,] { { 4, 2 }, { 2, 3 } }, [2, 1]).Select(v => Math.Round(v, 12)));
    }
}
