using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using DefenseBench.Build;

namespace DefenseBench.Core.Tests.Native;

/// <summary>
/// The build weakens libLibTorchSharp.so's GLIBCXX_3.4.32 need so TorchSharp loads on older libstdc++ (see
/// build/GlibcxxWeakener.cs). These tests build small but valid ELF64 files by hand, so the parser and the patch are
/// checked byte for byte without depending on whatever libraries the machine has.
/// </summary>
public sealed class GlibcxxWeakenerTests : IDisposable
{
    private const uint ShtStrtab = 3;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const ushort VerFlgWeak = 0x2;
    private readonly string _dir = Directory.CreateTempSubdirectory("weakener-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>One Elf64_Verneed (a library) and the versions needed from it, with their initial vna_flags.</summary>
    private sealed record Need(string File, (string Version, ushort Flags)[] Versions);

    /// <summary>One Elf64_Verdef: the version it defines and, optionally, its parent (a second Elf64_Verdaux).</summary>
    private sealed record Def(string Version, string? Parent = null);

    /// <summary>Where the builder put each Elf64_Vernaux, so tests can find its vna_flags.</summary>
    private sealed record Elf(byte[] Bytes, Dictionary<string, int> AuxOffsets)
    {
        public ushort Flags(string version) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(AuxOffsets[version] + 4));
    }

    /// <summary>
    /// A minimal ELF64 little-endian shared object: header, a string table, then a .gnu.version_r section (when
    /// <paramref name="needs"/> has entries) and a .gnu.version_d section (when <paramref name="defs"/> has entries),
    /// both linked to the string table, then the section header table (null, strtab, verneed?, verdef?).
    /// </summary>
    private static Elf Build(Need[] needs, Def[]? defs = null)
    {
        defs ??= [];
        var strings = new MemoryStream();
        strings.WriteByte(0);
        var nameOffsets = new Dictionary<string, int>(StringComparer.Ordinal);
        int Name(string s)
        {
            if (nameOffsets.TryGetValue(s, out int at)) return at;
            at = (int)strings.Length;
            strings.Write(Encoding.ASCII.GetBytes(s));
            strings.WriteByte(0);
            nameOffsets[s] = at;
            return at;
        }
        foreach (var need in needs)
        {
            Name(need.File);
            foreach (var (version, _) in need.Versions) Name(version);
        }
        foreach (var def in defs)
        {
            Name(def.Version);
            if (def.Parent != null) Name(def.Parent);
        }

        const int strtabOffset = 64;
        byte[] strtab = strings.ToArray();
        int verneedOffset = Align(strtabOffset + strtab.Length, 8);
        int verneedSize = needs.Sum(n => 16 + 16 * n.Versions.Length);
        int verdefOffset = Align(verneedOffset + verneedSize, 8);
        int verdefSize = defs.Sum(d => 20 + 8 * (d.Parent == null ? 1 : 2));
        int shoff = Align(verdefOffset + verdefSize, 8);
        var sections = new List<(uint Type, int Offset, int Size, uint Link)> { (0, 0, 0, 0), (ShtStrtab, strtabOffset, strtab.Length, 0) };
        if (needs.Length > 0) sections.Add((ShtGnuVerneed, verneedOffset, verneedSize, 1));
        if (defs.Length > 0) sections.Add((ShtGnuVerdef, verdefOffset, verdefSize, 1));
        var b = new byte[shoff + 64 * sections.Count];

        // Elf64_Ehdr
        b[0] = 0x7f; b[1] = (byte)'E'; b[2] = (byte)'L'; b[3] = (byte)'F';
        b[4] = 2; // ELFCLASS64
        b[5] = 1; // ELFDATA2LSB
        b[6] = 1; // EV_CURRENT
        W16(b, 0x10, 3);    // e_type ET_DYN
        W16(b, 0x12, 0x3e); // e_machine x86-64
        W32(b, 0x14, 1);    // e_version
        W64(b, 0x28, (ulong)shoff);
        W16(b, 0x34, 64);   // e_ehsize
        W16(b, 0x3A, 64);   // e_shentsize
        W16(b, 0x3C, (ushort)sections.Count);
        W16(b, 0x3E, 1);    // e_shstrndx (the one string table doubles as section-name table)

        strtab.CopyTo(b, strtabOffset);

        var auxOffsets = new Dictionary<string, int>(StringComparer.Ordinal);
        int vn = verneedOffset;
        for (int n = 0; n < needs.Length; n++)
        {
            var need = needs[n];
            int size = 16 + 16 * need.Versions.Length;
            W16(b, vn, 1);                                   // vn_version
            W16(b, vn + 2, (ushort)need.Versions.Length);    // vn_cnt
            W32(b, vn + 4, (uint)Name(need.File));           // vn_file
            W32(b, vn + 8, 16);                              // vn_aux
            W32(b, vn + 12, n == needs.Length - 1 ? 0 : (uint)size); // vn_next
            for (int i = 0; i < need.Versions.Length; i++)
            {
                int aux = vn + 16 + 16 * i;
                var (version, flags) = need.Versions[i];
                W32(b, aux, 0x0a0b0c00u + (uint)i);          // vna_hash (any value)
                W16(b, aux + 4, flags);                      // vna_flags
                W16(b, aux + 6, (ushort)(2 + auxOffsets.Count)); // vna_other (version index)
                W32(b, aux + 8, (uint)Name(version));        // vna_name
                W32(b, aux + 12, i == need.Versions.Length - 1 ? 0 : 16u); // vna_next
                auxOffsets[version] = aux;
            }
            vn += size;
        }

        int vd = verdefOffset;
        for (int d = 0; d < defs.Length; d++)
        {
            var def = defs[d];
            int count = def.Parent == null ? 1 : 2;
            int size = 20 + 8 * count;
            W16(b, vd, 1);                                   // vd_version
            W16(b, vd + 2, (ushort)(d == 0 ? 1 : 0));        // vd_flags (VER_FLG_BASE on the first)
            W16(b, vd + 4, (ushort)(d + 1));                 // vd_ndx
            W16(b, vd + 6, (ushort)count);                   // vd_cnt
            W32(b, vd + 8, 0x01020300u + (uint)d);           // vd_hash (any value)
            W32(b, vd + 12, 20);                             // vd_aux
            W32(b, vd + 16, d == defs.Length - 1 ? 0 : (uint)size); // vd_next
            W32(b, vd + 20, (uint)Name(def.Version));        // vda_name
            W32(b, vd + 24, count == 2 ? 8u : 0);            // vda_next
            if (def.Parent != null)
            {
                W32(b, vd + 28, (uint)Name(def.Parent));
                W32(b, vd + 32, 0);
            }
            vd += size;
        }

        for (int s = 0; s < sections.Count; s++)
        {
            int o = shoff + 64 * s;
            var (type, offset, size, link) = sections[s];
            W32(b, o + 4, type);
            W64(b, o + 0x18, (ulong)offset);
            W64(b, o + 0x20, (ulong)size);
            W32(b, o + 0x28, link);
            W32(b, o + 0x2C, (uint)(type == ShtGnuVerneed ? needs.Length : type == ShtGnuVerdef ? defs.Length : 0)); // sh_info
            W64(b, o + 0x30, type == 0 ? 0u : type == ShtStrtab ? 1u : 8u); // sh_addralign
        }
        return new Elf(b, auxOffsets);
    }

    private static int Align(int value, int to) => (value + to - 1) / to * to;
    private static void W16(byte[] b, int o, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(o), v);
    private static void W32(byte[] b, int o, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), v);
    private static void W64(byte[] b, int o, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(o), v);

    /// <summary>The shim's shape: one libstdc++ need with an older version and the one to weaken.</summary>
    private static Elf Shim() => Build([new Need("libstdc++.so.6", [("GLIBCXX_3.4.30", 0), ("GLIBCXX_3.4.32", 0)])]);

    private static int[] Differences(byte[] a, byte[] b) => [.. Enumerable.Range(0, a.Length).Where(i => a[i] != b[i])];

    [Fact]
    public void Weaken_sets_only_the_weak_flag_of_the_named_need()
    {
        var elf = Shim();
        byte[] before = (byte[])elf.Bytes.Clone();

        var outcome = ElfVersions.Weaken(elf.Bytes, "GLIBCXX_3.4.32");

        Assert.Equal(WeakenOutcome.Patched, outcome);
        Assert.Equal(VerFlgWeak, elf.Flags("GLIBCXX_3.4.32"));
        Assert.Equal(0, elf.Flags("GLIBCXX_3.4.30"));
        // vna_flags is little-endian, so the only byte that may change is its low byte.
        Assert.Equal([elf.AuxOffsets["GLIBCXX_3.4.32"] + 4], Differences(before, elf.Bytes));
    }

    [Fact]
    public void Weakening_twice_reports_already_weak_and_changes_nothing()
    {
        var elf = Shim();
        ElfVersions.Weaken(elf.Bytes, "GLIBCXX_3.4.32");
        byte[] once = (byte[])elf.Bytes.Clone();

        var outcome = ElfVersions.Weaken(elf.Bytes, "GLIBCXX_3.4.32");

        Assert.Equal(WeakenOutcome.AlreadyWeak, outcome);
        Assert.Equal(once, elf.Bytes);
    }

    [Fact]
    public void Weaken_keeps_flag_bits_that_were_already_set()
    {
        var elf = Build([new Need("libstdc++.so.6", [("GLIBCXX_3.4.32", 0x1)])]);

        Assert.Equal(WeakenOutcome.Patched, ElfVersions.Weaken(elf.Bytes, "GLIBCXX_3.4.32"));

        Assert.Equal(0x1 | VerFlgWeak, elf.Flags("GLIBCXX_3.4.32"));
    }

    [Fact]
    public void Weaken_follows_vn_next_to_a_later_library()
    {
        var elf = Build(
        [
            new Need("libc.so.6", [("GLIBC_2.2.5", 0), ("GLIBC_2.14", 0), ("GLIBC_2.17", 0)]),
            new Need("libm.so.6", [("GLIBC_2.29", 0)]),
            new Need("libstdc++.so.6", [("CXXABI_1.3", 0), ("GLIBCXX_3.4.30", 0), ("GLIBCXX_3.4.32", 0)]),
        ]);
        byte[] before = (byte[])elf.Bytes.Clone();

        Assert.Equal(WeakenOutcome.Patched, ElfVersions.Weaken(elf.Bytes, ElfVersions.Version));

        Assert.Equal(VerFlgWeak, elf.Flags("GLIBCXX_3.4.32"));
        Assert.Single(Differences(before, elf.Bytes));
        var needs = ElfVersions.FindNeeds(elf.Bytes, "GLIBC_2.29");
        Assert.Equal([(elf.AuxOffsets["GLIBC_2.29"] + 4, (ushort)0)], needs);
    }

    [Fact]
    public void Absent_need_is_reported_and_nothing_changes()
    {
        var elf = Build([new Need("libstdc++.so.6", [("GLIBCXX_3.4.30", 0), ("GLIBCXX_3.4.31", 0)])]);
        byte[] before = (byte[])elf.Bytes.Clone();

        Assert.Equal(WeakenOutcome.NoSuchNeed, ElfVersions.Weaken(elf.Bytes, "GLIBCXX_3.4.32"));
        Assert.Equal(before, elf.Bytes);
    }

    [Fact]
    public void A_version_only_defined_is_not_a_need()
    {
        var elf = Build([], [new Def("libfoo.so"), new Def("GLIBCXX_3.4.32")]);

        Assert.Equal(WeakenOutcome.NoSuchNeed, ElfVersions.Weaken(elf.Bytes, "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void Bytes_that_are_not_elf64_little_endian_are_left_alone()
    {
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        byte[] copy = (byte[])random.Clone();
        Assert.Equal(WeakenOutcome.NotElf64, ElfVersions.Weaken(random, ElfVersions.Version));
        Assert.Equal(copy, random);

        var bigEndian = Shim().Bytes;
        bigEndian[5] = 2; // ELFDATA2MSB
        Assert.Equal(WeakenOutcome.NotElf64, ElfVersions.Weaken(bigEndian, ElfVersions.Version));

        var elf32 = Shim().Bytes;
        elf32[4] = 1; // ELFCLASS32
        Assert.Equal(WeakenOutcome.NotElf64, ElfVersions.Weaken(elf32, ElfVersions.Version));

        Assert.Equal(WeakenOutcome.NotElf64, ElfVersions.Weaken([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1], ElfVersions.Version));
        Assert.False(ElfVersions.Defines(random, ElfVersions.Version));
        Assert.Empty(ElfVersions.FindNeeds(random, ElfVersions.Version));
    }

    [Fact]
    public void Defines_finds_a_version_in_the_verdef_chain()
    {
        var elf = Build([],
        [
            new Def("libstdc++.so.6"),
            new Def("GLIBCXX_3.4"),
            new Def("GLIBCXX_3.4.30", Parent: "GLIBCXX_3.4.29"),
            new Def("GLIBCXX_3.4.31", Parent: "GLIBCXX_3.4.30"),
        ]);

        Assert.True(ElfVersions.Defines(elf.Bytes, "GLIBCXX_3.4"));
        Assert.True(ElfVersions.Defines(elf.Bytes, "GLIBCXX_3.4.31"));
        Assert.False(ElfVersions.Defines(elf.Bytes, "GLIBCXX_3.4.32"));
        // A parent named only in a second Elf64_Verdaux is not defined by that entry.
        Assert.False(ElfVersions.Defines(elf.Bytes, "GLIBCXX_3.4.29"));
    }

    [Fact]
    public void A_needed_version_is_not_a_defined_one()
    {
        var elf = Build([new Need("libstdc++.so.6", [("GLIBCXX_3.4.32", 0)])], [new Def("libLibTorchSharp.so")]);

        Assert.False(ElfVersions.Defines(elf.Bytes, "GLIBCXX_3.4.32"));
        Assert.True(ElfVersions.Defines(elf.Bytes, "libLibTorchSharp.so"));
        Assert.Single(ElfVersions.FindNeeds(elf.Bytes, "GLIBCXX_3.4.32"));
    }

    /// <summary>Creates a hard link with ln (.NET 10 has no File.CreateHardLink); false where there is no ln.</summary>
    private static bool TryHardLink(string target, string link)
    {
        string ln = File.Exists("/bin/ln") ? "/bin/ln" : "/usr/bin/ln";
        if (OperatingSystem.IsWindows() || !File.Exists(ln)) return false;
        using var process = Process.Start(new ProcessStartInfo(ln, [target, link]) { RedirectStandardError = true, UseShellExecute = false })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, process.StandardError.ReadToEnd());
        return true;
    }

    [Fact]
    public void WeakenFile_patches_in_place_keeps_the_mtime_and_spares_hard_links()
    {
        var elf = Shim();
        byte[] original = (byte[])elf.Bytes.Clone();
        string path = Path.Combine(_dir, "libLibTorchSharp.so");
        string cached = Path.Combine(_dir, "package-cache-copy.so");
        File.WriteAllBytes(path, original);
        var mtime = new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, mtime);
        bool linked = TryHardLink(path, cached);

        Assert.Equal(WeakenOutcome.Patched, ElfVersions.WeakenFile(path));

        byte[] patched = File.ReadAllBytes(path);
        Assert.Equal([elf.AuxOffsets["GLIBCXX_3.4.32"] + 4], Differences(original, patched));
        Assert.Equal(VerFlgWeak, BinaryPrimitives.ReadUInt16LittleEndian(patched.AsSpan(elf.AuxOffsets["GLIBCXX_3.4.32"] + 4)));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(path));
        Assert.False(File.Exists(path + ".weakening"));
        // The build's copies are often hard links into the NuGet cache; that inode must keep the original bytes.
        if (linked) Assert.Equal(original, File.ReadAllBytes(cached));
    }

    [Fact]
    public void WeakenFile_keeps_the_permission_bits()
    {
        if (OperatingSystem.IsWindows()) return;
        string path = Path.Combine(_dir, "libLibTorchSharp.so");
        File.WriteAllBytes(path, Shim().Bytes);
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(path, mode);

        Assert.Equal(WeakenOutcome.Patched, ElfVersions.WeakenFile(path));

        Assert.Equal(mode, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Offsets_outside_the_file_are_treated_as_unreadable_not_thrown()
    {
        var elf = Shim();
        byte[] cut = elf.Bytes[..(elf.Bytes.Length / 2)];

        Assert.Equal(WeakenOutcome.NotElf64, ElfVersions.Weaken(cut, ElfVersions.Version));
        Assert.False(ElfVersions.Defines(cut, ElfVersions.Version));
    }

    [Fact]
    public void WeakenFile_on_a_weak_file_leaves_it_untouched()
    {
        var elf = Shim();
        ElfVersions.Weaken(elf.Bytes, ElfVersions.Version);
        string path = Path.Combine(_dir, "libLibTorchSharp.so");
        File.WriteAllBytes(path, elf.Bytes);
        var mtime = new DateTime(2022, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, mtime);
        bool linked = TryHardLink(path, Path.Combine(_dir, "other-link.so"));

        Assert.Equal(WeakenOutcome.AlreadyWeak, ElfVersions.WeakenFile(path));

        Assert.Equal(elf.Bytes, File.ReadAllBytes(path));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(path));
        Assert.False(File.Exists(path + ".weakening"));
        if (linked) Assert.Equal(elf.Bytes, File.ReadAllBytes(Path.Combine(_dir, "other-link.so")));
    }

    [Fact]
    public void Built_torchsharp_shim_has_a_weak_glibcxx_need_where_the_system_needs_it()
    {
        string runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        string? shim = Directory.Exists(runtimes)
            ? Directory.EnumerateFiles(runtimes, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault()
            : null;
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(shim != null, $"no libLibTorchSharp.so under {runtimes}");
        Assert.True(File.Exists(Path.Combine(runtimes, "linux-x64", "native", "libLibTorchSharp.so")) || !RuntimeIsX64());

        if (!ElfVersions.SystemNeedsPatch()) return;
        var needs = ElfVersions.FindNeeds(File.ReadAllBytes(shim), ElfVersions.Version);
        Assert.NotEmpty(needs);
        Assert.All(needs, n => Assert.True((n.Flags & VerFlgWeak) != 0, $"{shim}: {ElfVersions.Version} need at 0x{n.FlagsOffset:x} is not weak"));
    }

    [Fact]
    public void The_system_libstdcxx_defines_the_base_glibcxx_version()
    {
        string? lib = ElfVersions.SystemLibStdCxx();
        if (lib == null) return; // not Linux, or no libstdc++ where the loader usually looks

        byte[] bytes = File.ReadAllBytes(lib);

        // Every libstdc++.so.6 since GCC 3.4 defines GLIBCXX_3.4; none defines a made-up version.
        Assert.True(ElfVersions.Defines(bytes, "GLIBCXX_3.4"), lib);
        Assert.False(ElfVersions.Defines(bytes, "GLIBCXX_0.0.0-not-a-version"), lib);
        Assert.Equal(!ElfVersions.Defines(bytes, ElfVersions.Version), ElfVersions.SystemNeedsPatch());
    }

    private static bool RuntimeIsX64() => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64;
}
