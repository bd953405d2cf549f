#nullable enable
// Makes the GLIBCXX_3.4.32 version need of libLibTorchSharp.so weak, so the library loads on systems whose
// libstdc++ predates GCC 13 (Debian 12, Ubuntu 22.04). TorchSharp 0.107's shim references that version only
// for std::ios_base_library_init(), which nothing calls and no relocation uses; glibc treats a version need
// flagged VER_FLG_WEAK as optional. This file is compiled twice: as an MSBuild task (below) that patches every
// output folder after the build copies native assets, and into DefenseBench.Core for tests and `doctor`.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace DefenseBench.Build
{
    /// <summary>Outcome of looking at (and possibly patching) one ELF file.</summary>
    public enum WeakenOutcome { Patched, AlreadyWeak, NoSuchNeed, NotElf64 }

    /// <summary>Reads ELF64 little-endian version tables: the needs (.gnu.version_r) and definitions (.gnu.version_d).</summary>
    public static class ElfVersions
    {
        public const string Version = "GLIBCXX_3.4.32";
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const ushort VerFlgWeak = 0x2;

        private readonly struct Section
        {
            public Section(uint type, ulong offset, ulong size, uint link) { Type = type; Offset = offset; Size = size; Link = link; }
            public uint Type { get; }
            public ulong Offset { get; }
            public ulong Size { get; }
            public uint Link { get; }
        }

        private static bool IsElf64Le(byte[] b) =>
            b.Length > 64 && b[0] == 0x7f && b[1] == (byte)'E' && b[2] == (byte)'L' && b[3] == (byte)'F' && b[4] == 2 && b[5] == 1;

        private static List<Section> Sections(byte[] b)
        {
            ulong shoff = BitConverter.ToUInt64(b, 0x28);
            int shentsize = BitConverter.ToUInt16(b, 0x3A);
            int shnum = BitConverter.ToUInt16(b, 0x3C);
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                int o = checked((int)shoff + i * shentsize);
                list.Add(new Section(BitConverter.ToUInt32(b, o + 4), BitConverter.ToUInt64(b, o + 0x18),
                    BitConverter.ToUInt64(b, o + 0x20), BitConverter.ToUInt32(b, o + 0x28)));
            }
            return list;
        }

        private static string CString(byte[] b, int offset)
        {
            int end = offset;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, offset, end - offset);
        }

        /// <summary>Offsets of the vna_flags fields of every version need named <paramref name="version"/>.</summary>
        public static List<(int FlagsOffset, ushort Flags)> FindNeeds(byte[] b, string version)
        {
            var found = new List<(int, ushort)>();
            if (!IsElf64Le(b)) return found;
            var sections = Sections(b);
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerneed) continue;
                int strtab = (int)sections[(int)s.Link].Offset;
                int vn = (int)s.Offset;
                while (true)
                {
                    // Elf64_Verneed {vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32}
                    ushort count = BitConverter.ToUInt16(b, vn + 2);
                    int aux = vn + (int)BitConverter.ToUInt32(b, vn + 8);
                    for (int i = 0; i < count; i++)
                    {
                        // Elf64_Vernaux {vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32}
                        string name = CString(b, strtab + (int)BitConverter.ToUInt32(b, aux + 8));
                        if (name == version) found.Add((aux + 4, BitConverter.ToUInt16(b, aux + 4)));
                        uint next = BitConverter.ToUInt32(b, aux + 12);
                        if (next == 0) break;
                        aux += (int)next;
                    }
                    uint vnNext = BitConverter.ToUInt32(b, vn + 12);
                    if (vnNext == 0) break;
                    vn += (int)vnNext;
                }
            }
            return found;
        }

        /// <summary>Whether the ELF file defines the symbol version (e.g. a libstdc++ that provides GLIBCXX_3.4.32).</summary>
        public static bool Defines(byte[] b, string version)
        {
            if (!IsElf64Le(b)) return false;
            try
            {
                return DefinesUnchecked(b, version);
            }
            catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException)
            {
                return false;
            }
        }

        private static bool DefinesUnchecked(byte[] b, string version)
        {
            var sections = Sections(b);
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerdef) continue;
                int strtab = (int)sections[(int)s.Link].Offset;
                int vd = (int)s.Offset;
                while (true)
                {
                    // Elf64_Verdef {vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32}
                    int aux = vd + (int)BitConverter.ToUInt32(b, vd + 12);
                    // Elf64_Verdaux {vda_name u32, vda_next u32}: the first one names the version.
                    if (CString(b, strtab + (int)BitConverter.ToUInt32(b, aux)) == version) return true;
                    uint next = BitConverter.ToUInt32(b, vd + 16);
                    if (next == 0) break;
                    vd += (int)next;
                }
            }
            return false;
        }

        /// <summary>Sets VER_FLG_WEAK on every need for <paramref name="version"/>; returns what it found and did.</summary>
        public static WeakenOutcome Weaken(byte[] b, string version)
        {
            if (!IsElf64Le(b)) return WeakenOutcome.NotElf64;
            List<(int FlagsOffset, ushort Flags)> needs;
            try
            {
                needs = FindNeeds(b, version);
            }
            catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException)
            {
                // Offsets that point outside the file: not an ELF this can read, so leave it alone.
                return WeakenOutcome.NotElf64;
            }
            if (needs.Count == 0) return WeakenOutcome.NoSuchNeed;
            bool changed = false;
            foreach (var (offset, flags) in needs)
            {
                if ((flags & VerFlgWeak) != 0) continue;
                BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(b, offset);
                changed = true;
            }
            return changed ? WeakenOutcome.Patched : WeakenOutcome.AlreadyWeak;
        }

        /// <summary>The libstdc++ the dynamic loader would pick on common Linux layouts, or null (other OS, none found).</summary>
        public static string? SystemLibStdCxx()
        {
            foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                         "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
            {
                string path = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(path)) return path;
            }
            return null;
        }

        /// <summary>True when this machine's libstdc++ lacks <see cref="Version"/>, i.e. the shim would not load unpatched.</summary>
        public static bool SystemNeedsPatch()
        {
            string? lib = SystemLibStdCxx();
            return lib != null && !Defines(File.ReadAllBytes(lib), Version);
        }

        /// <summary>
        /// Weakens the need in one file in place. Writes through a temporary file and a rename, so a hard link into
        /// the package cache is never modified, and restores the modification time, so the build's incremental copy
        /// still sees the file as up to date and does not copy the unpatched original over it again.
        /// </summary>
        public static WeakenOutcome WeakenFile(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            var outcome = Weaken(bytes, Version);
            if (outcome != WeakenOutcome.Patched) return outcome;
            DateTime mtime = File.GetLastWriteTimeUtc(path);
            string temp = path + ".weakening";
            // Copy first so the temporary file has the original's permission bits, then overwrite its bytes.
            File.Copy(path, temp, true);
            File.WriteAllBytes(temp, bytes);
            File.SetLastWriteTimeUtc(temp, mtime);
            // Delete then move (netstandard2.0 has no overwriting Move): the old inode, possibly shared by a hard link
            // into the package cache, is left untouched.
            File.Delete(path);
            File.Move(temp, path);
            return outcome;
        }
    }

#if !DEFENSEBENCH_NO_MSBUILD_TASK
    /// <summary>MSBuild task: weakens the GLIBCXX_3.4.32 need of every libLibTorchSharp.so under Directory.</summary>
    public sealed class WeakenGlibcxxNeed : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Directory { get; set; } = "";

        public override bool Execute()
        {
            if (!System.IO.Directory.Exists(Directory)) return true;
            if (!ElfVersions.SystemNeedsPatch())
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                    "libstdc++ provides " + ElfVersions.Version + " (or this is not Linux): TorchSharp needs no patch.");
                return true;
            }
            foreach (string file in System.IO.Directory.EnumerateFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories))
            {
                var outcome = ElfVersions.WeakenFile(file);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    "TorchSharp native shim " + file + ": " + outcome);
            }
            return true;
        }
    }
#endif
}
