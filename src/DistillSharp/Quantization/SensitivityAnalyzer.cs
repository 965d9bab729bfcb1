using System.Globalization;
using System.Text;
using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>One layer's effect on the model output when it alone is quantized.</summary>
/// <param name="Name">Layer path.</param>
/// <param name="SqnrDb">10·log10(Σ y² / Σ (y − ŷ)²) of the model output, in dB (∞ when identical).</param>
/// <param name="RelError">‖y − ŷ‖ / ‖y‖ of the model output.</param>
public sealed record SensitivityRow(string Name, double SqnrDb, double RelError);

/// <summary>Per-layer quantization sensitivity, one row per layer, in model order.</summary>
public sealed record SensitivityReport(IReadOnlyList<SensitivityRow> Rows)
{
    /// <summary>Rows from the most to the least sensitive (lowest SQNR first).</summary>
    public IEnumerable<SensitivityRow> WorstFirst => Rows.OrderBy(r => r.SqnrDb);

    /// <summary>A markdown table (name | sqnr_db | rel_error).</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder("| layer | sqnr_db | rel_error |\n|---|---:|---:|\n");
        foreach (var r in Rows)
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Name} | {r.SqnrDb:F2} | {r.RelError:E3} |\n");
        return sb.ToString();
    }
}

/// <summary>
/// Quantizes one layer at a time (simulated, <see cref="QuantizedLinearSimulation"/>) and measures
/// the model output against float32 on calibration batches.
/// </summary>
public static class SensitivityAnalyzer
{
    /// <summary>Builds the report; <paramref name="run"/> defaults to <c>Module&lt;Tensor, Tensor&gt;.call</c>.</summary>
    public static SensitivityReport Analyze(nn.Module model, QuantizedModel quantized, IReadOnlyList<Tensor> batches,
        Func<nn.Module, Tensor, Tensor>? run = null)
    {
        run ??= (m, x) => ((nn.Module<Tensor, Tensor>)m).call(x);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var reference = batches.Select(b => run(model, b).detach()).ToList();
        var rows = new List<SensitivityRow>();
        foreach (var name in model.named_modules().Select(m => m.name).Where(quantized.Layers.ContainsKey).ToList())
        {
            var swap = QuantizedLinearSimulation.Apply(model, quantized, new HashSet<string> { name });
            try
            {
                double signal = 0, noise = 0;
                for (var i = 0; i < batches.Count; i++)
                {
                    using var step = NewDisposeScope();
                    var (s, n) = Energies(reference[i], run(swap.Root, batches[i]));
                    (signal, noise) = (signal + s, noise + n);
                }
                rows.Add(new SensitivityRow(name, ToDb(signal, noise), Math.Sqrt(noise / signal)));
            }
            finally
            {
                swap.Restore();
            }
        }
        return new SensitivityReport(rows);
    }

    /// <summary>SQNR (dB) and relative error of <paramref name="actual"/> against <paramref name="reference"/>.</summary>
    public static (double SqnrDb, double RelError) Compare(Tensor reference, Tensor actual)
    {
        var (signal, noise) = Energies(reference, actual);
        return (ToDb(signal, noise), Math.Sqrt(noise / signal));
    }

    private static (double Signal, double Noise) Energies(Tensor reference, Tensor actual)
    {
        using var scope = NewDisposeScope();
        var r = reference.detach().to(ScalarType.Float64);
        var d = r - actual.detach().to(ScalarType.Float64);
        return (r.square().sum().item<double>(), d.square().sum().item<double>());
    }

    private static double ToDb(double signal, double noise) =>
        noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
}
