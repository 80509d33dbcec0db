using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace MLCourse.DotNetInteractive;

/// <summary>
/// TorchSharp 0.107.0's libLibTorchSharp.so asks for the libstdc++ symbol version GLIBCXX_3.4.32 (GCC 13). Debian 12
/// and Ubuntu 22.04 ship 3.4.30, so the loader refuses it and TorchSharp reports a missing libtorch package. The one
/// symbol behind that version is never called, so the workbook's build marks the version need weak in its own copy
/// (build/Glibcxx.targets). .NET Interactive loads TorchSharp from the NuGet cache instead, which is never edited:
/// here a patched copy goes into the user cache (~/.cache/mlcourse/native), beside links to libtorch's libraries,
/// and is loaded before TorchSharp's first call, which then binds to it by its soname. Where libstdc++ is new
/// enough, nothing happens.
/// </summary>
internal static class TorchNative
{
    private const string NeededVersion = "GLIBCXX_3.4.32";

    public static void PrepareIfNeeded()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        try
        {
            if (LibStdCxxHas(NeededVersion)) return;
            if (PatchedCopy() is { } path) NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or BadImageFormatException)
        {
            Console.Error.WriteLine($"MLCourse: could not prepare TorchSharp's native library for this libstdc++ ({e.Message}); "
                                    + "see the README, \"Troubleshooting\".");
        }
    }

    /// <summary>Whether the libstdc++ this process has loaded defines the symbol version.</summary>
    internal static bool LibStdCxxHas(string version)
    {
        string? path = File.ReadLines("/proc/self/maps").Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]).StartsWith("libstdc++.so", StringComparison.Ordinal))
            .Select(fields => fields[5]).FirstOrDefault();
        if (path is null) return true; // not loaded by this process: nothing to judge, do nothing
        return File.ReadAllBytes(path).AsSpan().IndexOf(Encoding.ASCII.GetBytes(version + "\0")) >= 0;
    }

    /// <summary>The patched libLibTorchSharp.so in the user cache (made once per TorchSharp and libtorch version).</summary>
    private static string? PatchedCopy()
    {
        // .../packages/torchsharp/<version>/lib/net8.0/TorchSharp.dll
        var torchSharpDir = new DirectoryInfo(Path.GetDirectoryName(typeof(torch).Assembly.Location)!);
        var versionDir = torchSharpDir.Parent?.Parent;
        var packagesDir = versionDir?.Parent?.Parent;
        if (versionDir is null || packagesDir is null) return null;
        string original = Path.Combine(versionDir.FullName, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var libtorch = new DirectoryInfo(Path.Combine(packagesDir.FullName, "libtorch-cpu-linux-x64"));
        var nativeDir = libtorch.Exists
            ? libtorch.GetDirectories().OrderByDescending(d => Version.TryParse(d.Name, out var v) ? v : new Version())
                .Select(d => new DirectoryInfo(Path.Combine(d.FullName, "runtimes", "linux-x64", "native")))
                .FirstOrDefault(d => File.Exists(Path.Combine(d.FullName, "libtorch.so")))
            : null;
        if (!File.Exists(original) || nativeDir is null) return null;

        string cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mlcourse", "native",
                                    $"torchsharp-{versionDir.Name}-libtorch-{nativeDir.Parent!.Parent!.Name}");
        string patched = Path.Combine(cache, "libLibTorchSharp.so");
        if (File.Exists(patched)) return patched;

        Directory.CreateDirectory(cache);
        foreach (var library in nativeDir.GetFiles())
        {
            string link = Path.Combine(cache, library.Name);
            if (!File.Exists(link)) File.CreateSymbolicLink(link, library.FullName);
        }
        byte[] elf = File.ReadAllBytes(original);
        ElfVersionNeeds.MarkWeak(elf, NeededVersion);
        string temp = patched + $".{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temp, elf);
        File.Move(temp, patched, overwrite: true);
        return patched;
    }
}

/// <summary>Edits an ELF64 little-endian shared library's version needs (SHT_GNU_verneed) in memory.</summary>
internal static class ElfVersionNeeds
{
    private const uint VersionNeedSection = 0x6ffffffe;
    private const ushort WeakFlag = 0x2;

    /// <summary>Sets VER_FLG_WEAK on every need of the named version; returns how many it changed.</summary>
    public static int MarkWeak(byte[] elf, string versionName)
    {
        var span = elf.AsSpan();
        if (span.Length < 64 || !span[..4].SequenceEqual("\u007fELF"u8) || span[4] != 2 || span[5] != 1) return 0;
        long sectionTable = BinaryPrimitives.ReadInt64LittleEndian(span[0x28..]);
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        int changed = 0;
        for (int section = 0; section < sectionCount; section++)
        {
            var header = span[(int)(sectionTable + (long)section * entrySize)..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != VersionNeedSection) continue;
            long needs = BinaryPrimitives.ReadInt64LittleEndian(header[0x18..]);
            int stringSection = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            int needCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x2C..]);
            long strings = BinaryPrimitives.ReadInt64LittleEndian(span[(int)(sectionTable + (long)stringSection * entrySize + 0x18)..]);
            for (int need = 0, at = (int)needs; need < needCount; need++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(span[(at + 2)..]);
                int aux = at + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 8)..]);
                for (int a = 0; a < auxCount; a++)
                {
                    var name = span[(int)(strings + BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 8)..]))..];
                    name = name[..name.IndexOf((byte)0)];
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(span[(aux + 4)..]);
                    if (Encoding.ASCII.GetString(name) == versionName && (flags & WeakFlag) == 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(span[(aux + 4)..], (ushort)(flags | WeakFlag));
                        changed++;
                    }
                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(aux + 12)..]);
                }
                at += (int)BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 12)..]);
            }
        }
        return changed;
    }
}
