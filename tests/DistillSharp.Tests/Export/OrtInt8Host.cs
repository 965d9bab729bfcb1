using System.Runtime.Intrinsics.X86;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Export;

/// <summary>
/// Whether ONNX Runtime's INT8 GEMM computes exact integer dot products on this CPU. Its u8 × s8 kernel for
/// x86-64 without VNNI (AVX2's <c>vpmaddubsw</c>) sums pairs of products in saturating int16, so with full
/// 8-bit weights it departs from exact arithmetic — ONNX Runtime's quantization tools offer
/// <c>reduce_range</c> (7-bit weights) for such CPUs. Measured on an AMD EPYC with AVX2 only (2026-12-02):
/// ORT vs the fake-quant reference 2.1–2.8e-3 relative (≤ 2e-4 on the AVX-512 VNNI host), a tiny
/// classifier's logits off by 40% of their range. The tests that compare ORT INT8 outputs with a reference
/// check that comparison only where it is exact; what they check of our own runtime runs everywhere.
/// </summary>
static class OrtInt8Host
{
    public static bool Exact => !X86Base.IsSupported || AvxVnni.IsSupported || Avx512VnniTiles.CpuHasAvx512Vnni;

    public const string Why = "ONNX Runtime's u8s8 GEMM saturates without VNNI (AVX2 vpmaddubsw): comparison skipped on this CPU";
}
