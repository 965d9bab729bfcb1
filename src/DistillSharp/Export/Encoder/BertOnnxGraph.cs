using DistillSharp.Models.Encoder;
using static DistillSharp.Export.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Export.Encoder;

/// <summary>Writes the weights of one Linear layer or the word-embedding lookup into a graph; fp32 and INT8 differ only here.</summary>
internal interface IOnnxWeightWriter
{
    /// <summary>x (…, in) → (…, out) for the Linear named <paramref name="layer"/> ("encoder.layer.0.attention.self.query").</summary>
    string Linear(OnnxGraphBuilder g, string layer, string x);

    /// <summary>input_ids (B, T) → word embeddings (B, T, H).</summary>
    string WordEmbedding(OnnxGraphBuilder g, string inputIds);
}

/// <summary>
/// The BERT encoder of <see cref="BertEncoderModel"/> as an ONNX graph, op for op:
/// embeddings (Gather ×2 + Slice of the position table, LayerNormalization), then per layer
/// Q/K/V projections, Reshape/Transpose into heads, MatMul, Div by √d, Add of the additive mask,
/// Softmax, MatMul, merge, output projection + residual + LayerNormalization, FFN with the
/// configured activation + residual + LayerNormalization; finally sentence pooling (mean over
/// the mask or [CLS]) and optional L2 normalisation. Shapes: B batch, T tokens, H hidden, h heads, d = H/h.
/// </summary>
internal static class BertOnnxGraph
{
    /// <summary>The ONNX form of every entry of the activation table (<see cref="Runtime.Kernels.Activations"/>).</summary>
    internal static readonly IReadOnlyDictionary<Activation, Func<OnnxGraphBuilder, string, string, string>> ActivationGraphs =
        new Dictionary<Activation, Func<OnnxGraphBuilder, string, string, string>>
        {
            [Activation.None] = (g, x, hint) => g.Node("Identity", [x], hint),
            [Activation.Gelu] = GeluErf,
            [Activation.GeluTanh] = GeluTanh,
            [Activation.Relu] = (g, x, hint) => g.Node("Relu", [x], hint),
            [Activation.Silu] = (g, x, hint) => g.Node("Mul", [x, g.Node("Sigmoid", [x], hint + "_sigmoid")], hint),
        };

    /// <summary>
    /// Appends the whole encoder to <paramref name="g"/> and declares inputs and outputs; with
    /// <paramref name="distillation"/> also every hidden state, attention map and Q/K/V (see <see cref="OnnxTeacherForward"/>).
    /// </summary>
    public static void Write(OnnxGraphBuilder g, BertConfig c, WeightTable w, IOnnxWeightWriter writer, Pooling pooling, bool normalize,
        bool distillation = false)
    {
        var activation = ActivationGraphs[Activations.Parse(c.HiddenAct)];

        string ids = g.Input("input_ids", DataType.Int64, "batch", "sequence");
        string mask = g.Input("attention_mask", DataType.Int64, "batch", "sequence");
        string types = g.Input("token_type_ids", DataType.Int64, "batch", "sequence");
        float eps = (float)c.LayerNormEps;

        // Embeddings: word + token type + position rows [0, T), then LayerNorm.
        string word = writer.WordEmbedding(g, ids);                                             // (B, T, H)
        string typeTable = g.Floats("embeddings.token_type_embeddings.weight", w.Data("embeddings.token_type_embeddings.weight"), c.TypeVocabSize, c.HiddenSize);
        string type = g.Node("Gather", [typeTable, types], "embeddings/token_type");               // (B, T, H)
        string posTable = g.Floats("embeddings.position_embeddings.weight", w.Data("embeddings.position_embeddings.weight"), c.MaxPositionEmbeddings, c.HiddenSize);
        string seqLen = g.Node("Shape", [ids], "embeddings/seq_len", Attr("start", 1L), Attr("end", 2L)); // (1,) = [T]
        string pos = g.Node("Slice", [posTable, g.Longs(0), seqLen, g.Longs(0)], "embeddings/position"); // (T, H)
        string sum = g.Node("Add", [g.Node("Add", [word, type], "embeddings/word_type"), pos], "embeddings/sum");
        string hidden = LayerNorm(g, w, sum, "embeddings.LayerNorm", eps);

        // (B, T) 1/0 mask → (B, 1, 1, T) additive: 0 for tokens, float.MinValue for padding (as BertEncoderModel.AdditiveMask).
        string maskF = g.Node("Cast", [mask], "mask/float", Attr("to", (long)DataType.Float));
        string mask4 = g.Node("Unsqueeze", [maskF, g.Longs(1, 2)], "mask/b11t");
        string additive = g.Node("Mul", [g.Node("Sub", [g.Scalar(1f), mask4], "mask/inverted"), g.Scalar(float.MinValue)], "mask/additive");

        string H = c.HiddenSize.ToString(), heads = c.NumAttentionHeads.ToString(), d = c.HeadDim.ToString();
        if (distillation) g.Output(hidden, OnnxTeacherForward.OutputName(OnnxTeacherForward.HiddenState, 0), DataType.Float, "batch", "sequence", H);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            var layer = Layer(g, c, w, writer, activation, $"encoder.layer.{i}", hidden, additive, eps);
            hidden = layer.Output;
            if (!distillation) continue;
            g.Output(hidden, OnnxTeacherForward.OutputName(OnnxTeacherForward.HiddenState, i + 1), DataType.Float, "batch", "sequence", H);
            g.Output(layer.Probs, OnnxTeacherForward.OutputName(OnnxTeacherForward.Attention, i), DataType.Float, "batch", heads, "sequence", "sequence");
            g.Output(layer.Q, OnnxTeacherForward.OutputName(OnnxTeacherForward.Query, i), DataType.Float, "batch", heads, "sequence", d);
            // Keys enter the scores transposed (B, h, d, T); the distillation output is (B, h, T, d) like Q and V.
            string k = g.Node("Transpose", [layer.KT], $"encoder.layer.{i}/k_bhtd", Attr("perm", new long[] { 0, 1, 3, 2 }));
            g.Output(k, OnnxTeacherForward.OutputName(OnnxTeacherForward.Key, i), DataType.Float, "batch", heads, "sequence", d);
            g.Output(layer.V, OnnxTeacherForward.OutputName(OnnxTeacherForward.Value, i), DataType.Float, "batch", heads, "sequence", d);
        }
        g.Output(hidden, "last_hidden_state", DataType.Float, "batch", "sequence", c.HiddenSize.ToString());

        string pooled = pooling == Pooling.Cls
            ? g.Node("Gather", [hidden, g.Int64s("pooling/cls_index", [0L])], "pooling/cls", Attr("axis", 1L))
            : MeanPool(g, hidden, maskF);
        if (normalize)
        {
            // x / max(‖x‖₂, 1e-12), as torch.nn.functional.normalize.
            string sq = g.Node("ReduceSum", [g.Node("Mul", [pooled, pooled], "normalize/square"), g.Longs(-1)], "normalize/sum_sq", Attr("keepdims", 1L));
            string norm = g.Node("Max", [g.Node("Sqrt", [sq], "normalize/norm"), g.Scalar(1e-12f)], "normalize/norm_clamped");
            pooled = g.Node("Div", [pooled, norm], "normalize/unit");
        }
        g.Output(pooled, "sentence_embedding", DataType.Float, "batch", c.HiddenSize.ToString());
    }

    // One encoder layer: its output and, for distillation outputs, the values inside attention.
    static (string Output, string Probs, string Q, string KT, string V) Layer(OnnxGraphBuilder g, BertConfig c, WeightTable w, IOnnxWeightWriter writer,
        Func<OnnxGraphBuilder, string, string, string> activation, string p, string x, string additive, float eps)
    {
        long[] split = [0, 0, c.NumAttentionHeads, c.HeadDim];                                      // 0 = keep B, T
        string Heads(string linear, string role, long[] perm) =>
            g.Node("Transpose", [g.Node("Reshape", [linear, g.Longs(split)], $"{p}/{role}_split")], $"{p}/{role}_heads", Attr("perm", perm));

        string q = Heads(writer.Linear(g, $"{p}.attention.self.query", x), "q", [0, 2, 1, 3]);   // (B, h, T, d)
        string kT = Heads(writer.Linear(g, $"{p}.attention.self.key", x), "k", [0, 2, 3, 1]);    // (B, h, d, T)
        string v = Heads(writer.Linear(g, $"{p}.attention.self.value", x), "v", [0, 2, 1, 3]);   // (B, h, T, d)
        string scores = g.Node("MatMul", [q, kT], $"{p}/scores");                                 // (B, h, T, T)
        string scaled = g.Node("Div", [scores, g.Scalar(MathF.Sqrt(c.HeadDim))], $"{p}/scaled");
        string probs = g.Node("Softmax", [g.Node("Add", [scaled, additive], $"{p}/masked")], $"{p}/probs", Attr("axis", -1L));
        string context = g.Node("MatMul", [probs, v], $"{p}/context");                          // (B, h, T, d)
        string merged = g.Node("Reshape", [g.Node("Transpose", [context], $"{p}/context_t", Attr("perm", new long[] { 0, 2, 1, 3 })),
            g.Longs(0, 0, c.HiddenSize)], $"{p}/context_merged");                                  // (B, T, H)

        string attnOut = writer.Linear(g, $"{p}.attention.output.dense", merged);
        string attended = LayerNorm(g, w, g.Node("Add", [attnOut, x], $"{p}/attention_residual"), $"{p}.attention.output.LayerNorm", eps);

        string inter = activation(g, writer.Linear(g, $"{p}.intermediate.dense", attended), $"{p}/intermediate_act");
        string ffnOut = writer.Linear(g, $"{p}.output.dense", inter);
        return (LayerNorm(g, w, g.Node("Add", [ffnOut, attended], $"{p}/output_residual"), $"{p}.output.LayerNorm", eps), probs, q, kT, v);
    }

    static string LayerNorm(OnnxGraphBuilder g, WeightTable w, string x, string name, float eps)
    {
        string gamma = g.Floats($"{name}.weight", w.Data($"{name}.weight"), w.Shape($"{name}.weight"));
        string beta = g.Floats($"{name}.bias", w.Data($"{name}.bias"), w.Shape($"{name}.bias"));
        return g.Node("LayerNormalization", [x, gamma, beta], name.Replace('.', '/'), Attr("axis", -1L), Attr("epsilon", eps));
    }

    /// <summary>Σ_t h·m / max(Σ_t m, 1e-9) over the (B, T) float mask, as SentencePooling.</summary>
    static string MeanPool(OnnxGraphBuilder g, string hidden, string maskF)
    {
        string m = g.Node("Unsqueeze", [maskF, g.Longs(2)], "pooling/mask_bt1");                 // (B, T, 1)
        string sum = g.Node("ReduceSum", [g.Node("Mul", [hidden, m], "pooling/masked"), g.Longs(1)], "pooling/sum", Attr("keepdims", 0L)); // (B, H)
        string count = g.Node("ReduceSum", [m, g.Longs(1)], "pooling/count", Attr("keepdims", 0L));  // (B, 1)
        return g.Node("Div", [sum, g.Node("Max", [count, g.Scalar(1e-9f)], "pooling/count_clamped")], "pooling/mean");
    }

    /// <summary>Exact GELU: x · ½ · (1 + erf(x / √2)).</summary>
    static string GeluErf(OnnxGraphBuilder g, string x, string hint)
    {
        string erf = g.Node("Erf", [g.Node("Div", [x, g.Scalar(MathF.Sqrt(2f))], hint + "/scaled")], hint + "/erf");
        string half = g.Node("Mul", [g.Node("Add", [erf, g.Scalar(1f)], hint + "/one_plus"), g.Scalar(0.5f)], hint + "/half");
        return g.Node("Mul", [x, half], hint);
    }

    /// <summary>Tanh GELU: x · ½ · (1 + tanh(√(2/π) · (x + 0.044715 x³))).</summary>
    static string GeluTanh(OnnxGraphBuilder g, string x, string hint)
    {
        string cube = g.Node("Mul", [g.Node("Mul", [x, x], hint + "/sq"), x], hint + "/cube");
        string inner = g.Node("Add", [x, g.Node("Mul", [cube, g.Scalar(0.044715f)], hint + "/cube_scaled")], hint + "/inner");
        string t = g.Node("Tanh", [g.Node("Mul", [inner, g.Scalar((float)Math.Sqrt(2.0 / Math.PI))], hint + "/inner_scaled")], hint + "/tanh");
        string half = g.Node("Mul", [g.Node("Add", [t, g.Scalar(1f)], hint + "/one_plus"), g.Scalar(0.5f)], hint + "/half");
        return g.Node("Mul", [x, half], hint);
    }
}
