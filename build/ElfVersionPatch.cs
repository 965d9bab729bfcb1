// Makes libLibTorchSharp.so from TorchSharp 0.107 load on systems whose libstdc++ predates
// GLIBCXX_3.4.32 (Debian 12 ships 3.4.30).
//
// The library asks for version GLIBCXX_3.4.32 only for std::ios_base_library_init(), a symbol it
// references without any relocation (GCC 13 emits the reference just to pull in the iostream
// initialiser). The dynamic loader refuses a library whose *required* version is missing, but
// accepts a missing version whose Vernaux entry carries VER_FLG_WEAK (0x2). Setting that one flag
// is therefore enough, and it changes two bytes of the file.
//
// ELF layout used here (System V gABI, "Symbol Versioning" in the LSB):
//   section header: sh_type == SHT_GNU_verneed (0x6ffffffe), sh_link = string table,
//                   sh_info = number of Verneed entries.
//   Verneed (16 bytes): vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
//   Vernaux (16 bytes): vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory as a build task (so a fresh
// clone patches itself during restore/build/publish) and into DistillSharp itself (so `distill
// doctor` and the tests use the same code). Keep it dependency free.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace DistillSharp.Build
{
    /// <summary>What <see cref="ElfVersionPatch.Apply"/> did to one file.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The file needs no version that the filter selects.</summary>
        NotNeeded,
        /// <summary>The version was already weak: nothing written.</summary>
        AlreadyWeak,
        /// <summary>The flag was set and the file rewritten.</summary>
        Patched,
    }

    /// <summary>Reads and edits the version-needs table (.gnu.version_r) of an ELF64 file.</summary>
    public static class ElfVersionPatch
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlgWeak = 0x2;

        /// <summary>One required version: the library that must provide it, its name, its flags.</summary>
        public readonly struct Requirement
        {
            public Requirement(string file, string version, ushort flags, long flagsOffset)
            {
                File = file; Version = version; Flags = flags; FlagsOffset = flagsOffset;
            }
            public string File { get; }
            public string Version { get; }
            public ushort Flags { get; }
            public long FlagsOffset { get; }
            public bool IsWeak => (Flags & VerFlgWeak) != 0;
        }

        /// <summary>Lists every (library, version) pair the ELF file requires.</summary>
        public static List<Requirement> ReadRequirements(byte[] elf, string pathForErrors)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException(pathForErrors + ": not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException(pathForErrors + ": only 64-bit little-endian ELF is supported (class " + elf[4] + ", data " + elf[5] + ")");

            long shoff = (long)ReadU64(elf, 0x28, pathForErrors);
            int shentsize = ReadU16(elf, 0x3A, pathForErrors);
            int shnum = ReadU16(elf, 0x3C, pathForErrors);
            var result = new List<Requirement>();
            for (int i = 0; i < shnum; i++)
            {
                long sh = shoff + (long)i * shentsize;
                if (ReadU32(elf, sh + 4, pathForErrors) != ShtGnuVerneed) continue;
                long offset = (long)ReadU64(elf, sh + 24, pathForErrors);
                int link = (int)ReadU32(elf, sh + 40, pathForErrors);
                uint count = ReadU32(elf, sh + 44, pathForErrors);
                long strtab = (long)ReadU64(elf, shoff + (long)link * shentsize + 24, pathForErrors);

                long vn = offset;
                for (uint n = 0; n < count; n++)
                {
                    ushort auxCount = ReadU16(elf, vn + 2, pathForErrors);
                    string file = ReadCString(elf, strtab + ReadU32(elf, vn + 4, pathForErrors), pathForErrors);
                    long aux = vn + ReadU32(elf, vn + 8, pathForErrors);
                    for (int a = 0; a < auxCount; a++)
                    {
                        ushort flags = ReadU16(elf, aux + 4, pathForErrors);
                        string name = ReadCString(elf, strtab + ReadU32(elf, aux + 8, pathForErrors), pathForErrors);
                        result.Add(new Requirement(file, name, flags, aux + 4));
                        aux += ReadU32(elf, aux + 12, pathForErrors);
                    }
                    uint next = ReadU32(elf, vn + 12, pathForErrors);
                    if (next == 0) break;
                    vn += next;
                }
            }
            return result;
        }

        /// <summary>True when the library file defines (exports) the given symbol version.</summary>
        public static bool DefinesVersion(string libraryPath, string version)
        {
            // Version definitions live as NUL-terminated names in .dynstr; a name that is present
            // there as a whole string is what the loader matches against.
            byte[] bytes = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
            return IndexOf(bytes, needle) >= 0;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the requirement <paramref name="version"/> of <paramref name="library"/>
        /// in the ELF file at <paramref name="path"/>. Writes through a temporary file and a rename, so
        /// a reader never sees a half-written library. Idempotent.
        /// </summary>
        public static ElfPatchOutcome Apply(string path, string library, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            bool found = false;
            var offsets = new List<long>();
            foreach (var req in ReadRequirements(elf, path))
            {
                if (req.File != library || req.Version != version) continue;
                found = true;
                if (req.IsWeak) continue;
                ushort flags = (ushort)(req.Flags | VerFlgWeak);
                elf[req.FlagsOffset] = (byte)(flags & 0xff);
                elf[req.FlagsOffset + 1] = (byte)(flags >> 8);
                offsets.Add(req.FlagsOffset);
            }
            if (!found) return ElfPatchOutcome.NotNeeded;
            if (offsets.Count == 0) return ElfPatchOutcome.AlreadyWeak;

            // Copy (keeps the file mode), patch the copy, then rename it over the original.
            string temp = path + ".patch-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            File.Copy(path, temp, true);
            try
            {
                using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write))
                {
                    foreach (long at in offsets)
                    {
                        stream.Position = at;
                        stream.Write(elf, (int)at, 2);
                    }
                }
                File.Replace(temp, path, null);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
            return ElfPatchOutcome.Patched;
        }

        /// <summary>Finds the libstdc++.so.6 the dynamic loader would pick, or null.</summary>
        public static string? FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            string? ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld)) dirs.AddRange(ld.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            dirs.AddRange(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            });
            foreach (string dir in dirs)
            {
                string candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            // Plain search: this file also compiles against netstandard2.0 (MSBuild inline tasks).
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                if (haystack[i] != needle[0]) continue;
                int j = 1;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        static ushort ReadU16(byte[] b, long at, string path)
        {
            Check(b, at, 2, path);
            return (ushort)(b[at] | b[at + 1] << 8);
        }

        static uint ReadU32(byte[] b, long at, string path)
        {
            Check(b, at, 4, path);
            return BitConverter.ToUInt32(b, (int)at);
        }

        static ulong ReadU64(byte[] b, long at, string path)
        {
            Check(b, at, 8, path);
            return BitConverter.ToUInt64(b, (int)at);
        }

        static string ReadCString(byte[] b, long at, string path)
        {
            Check(b, at, 1, path);
            int end = Array.IndexOf(b, (byte)0, (int)at);
            if (end < 0) throw new InvalidDataException(path + ": unterminated string at offset " + at);
            return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
        }

        static void Check(byte[] b, long at, int size, string path)
        {
            if (at < 0 || at + size > b.Length)
                throw new InvalidDataException(path + ": truncated ELF (offset " + at + " beyond " + b.Length + " bytes)");
        }
    }

#if !DISTILLSHARP_LIBRARY
    /// <summary>
    /// MSBuild task: for every libLibTorchSharp.so in <see cref="Files"/>, marks its GLIBCXX_3.4.32
    /// requirement weak when the system libstdc++ lacks that version. Does nothing elsewhere.
    /// </summary>
    public sealed class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public override bool Execute()
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)) return true;
            const string Version = "GLIBCXX_3.4.32";
            string? libstdcxx = ElfVersionPatch.FindSystemLibStdCxx();
            if (libstdcxx == null || ElfVersionPatch.DefinesVersion(libstdcxx, Version)) return true;
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!File.Exists(path)) continue;
                try
                {
                    var outcome = ElfVersionPatch.Apply(path, "libstdc++.so.6", Version);
                    if (outcome == ElfPatchOutcome.Patched)
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                            "DistillSharp: marked " + Version + " weak in " + path + " (system " + libstdcxx + " lacks it)");
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
                {
                    Log.LogWarning("DistillSharp: could not patch " + path + ": " + e.Message);
                }
            }
            return true;
        }
    }
#endif
}
