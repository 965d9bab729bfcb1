namespace DistillSharp.Data;

/// <summary>
/// Where a resumable batch source is: the epoch and the next batch within it. Every source's order
/// is a pure function of its seed and the epoch, so this is all a checkpoint needs to continue exactly.
/// </summary>
public sealed record DataPosition(int Epoch, int Batch);
