using System.Runtime.InteropServices;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Machine code placed in its own pages and made executable (Linux x64 only): mapped read-write,
/// filled, then switched to read + execute, so no page is ever writable and executable at once.
/// The pages live for the rest of the process (kernels are generated once).
/// </summary>
internal static partial class ExecutableCode
{
    const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary>True where <see cref="Place"/> can work: Linux on x64.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>
    /// Copies every function of <paramref name="functions"/> into one executable region (each start
    /// 64-byte aligned) and returns their addresses, or null when the OS refuses (e.g. a policy that
    /// forbids executable anonymous memory).
    /// </summary>
    public static unsafe nint[]? Place(IReadOnlyList<byte[]> functions)
    {
        if (!IsSupported) return null;
        var offsets = new int[functions.Count];
        int size = 0;
        for (int i = 0; i < functions.Count; i++)
        {
            offsets[i] = size;
            size += (functions[i].Length + 63) & ~63;
        }
        nuint length = (nuint)((size + 4095) & ~4095);
        nint region = mmap(0, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (region == -1) return null;
        for (int i = 0; i < functions.Count; i++) functions[i].CopyTo(new Span<byte>((byte*)region + offsets[i], functions[i].Length));
        if (mprotect(region, length, ProtRead | ProtExec) != 0)
        {
            munmap(region, length);
            return null;
        }
        return offsets.Select(o => region + o).ToArray();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint addr, nuint length);
}
