using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLCourse.Kernel;

/// <summary>What <see cref="KernelSpec.Install"/> did.</summary>
/// <param name="Name">The kernelspec name (the folder name Jupyter selects the kernel by).</param>
/// <param name="Folder">The kernelspec folder written.</param>
/// <param name="Notes">Sentences for the user: why this name, what was left alone.</param>
public sealed record KernelSpecInstallation(string Name, string Folder, IReadOnlyList<string> Notes);

/// <summary>
/// Writes the kernelspec folder (kernel.json + logos) that makes Jupyter clients (VS Code's Jupyter extension,
/// JupyterLab, the classic notebook, nbclient) start this kernel. Naming: the workbook's notebooks name the kernelspec
/// <c>.net-csharp</c> (Polyglot-compatible), so when no other kernelspec of that name exists the kernel is installed
/// under it and the notebooks open with it preselected. When one exists (a .NET Interactive install), it is left alone
/// and the kernel goes under <c>mlcourse-csharp</c>, which the user picks once per notebook. A kernelspec that this
/// command did not write is never overwritten.
/// </summary>
public static class KernelSpec
{
    /// <summary>The kernelspec name in the workbook's notebook metadata (the one .NET Interactive used).</summary>
    public const string PolyglotName = ".net-csharp";

    /// <summary>The name used when <see cref="PolyglotName"/> belongs to another kernel.</summary>
    public const string FallbackName = "mlcourse-csharp";

    /// <summary>The picker's name for the kernel.</summary>
    public const string DisplayName = "C# (MLCourse)";

    /// <summary>
    /// Installs the kernelspec into <paramref name="kernelsFolder"/> (a Jupyter <c>kernels</c> folder). <paramref name="name"/>
    /// null chooses as described on the class, looking for existing kernelspecs in <paramref name="searchFolders"/>.
    /// </summary>
    public static KernelSpecInstallation Install(string kernelsFolder, IReadOnlyList<string> argv, string? name, IEnumerable<string> searchFolders)
    {
        var notes = new List<string>();
        if (name is null)
        {
            var foreign = searchFolders.Append(kernelsFolder).Distinct()
                .Select(folder => Path.Combine(folder, PolyglotName))
                .Where(folder => File.Exists(Path.Combine(folder, "kernel.json")) && !IsOurs(folder))
                .ToList();
            if (foreign.Count == 0)
            {
                name = PolyglotName;
                notes.Add($"Installed as \"{PolyglotName}\", the kernel name in the workbook's notebook metadata: notebooks open with this kernel selected.");
            }
            else
            {
                name = FallbackName;
                notes.Add($"Another \"{PolyglotName}\" kernel is installed ({foreign[0]}, probably .NET Interactive); it was left alone.");
                notes.Add($"Installed as \"{FallbackName}\": pick \"{DisplayName}\" in the notebook's kernel picker once per notebook.");
            }
        }
        string folder = Path.Combine(kernelsFolder, name);
        if (File.Exists(Path.Combine(folder, "kernel.json")) && !IsOurs(folder))
            throw new InvalidOperationException($"{folder} holds another kernel; it was not overwritten. Choose another --name.");
        Directory.CreateDirectory(folder);
        var spec = new JsonObject
        {
            ["argv"] = new JsonArray(argv.Append("{connection_file}").Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["display_name"] = DisplayName,
            ["language"] = "C#",
            ["interrupt_mode"] = "message",
            ["env"] = new JsonObject(),
            ["metadata"] = new JsonObject
            {
                ["mlcourse"] = new JsonObject { ["version"] = MLCourse.Notebooks.Packages.VersionOf(typeof(KernelSpec).Assembly) },
            },
        };
        File.WriteAllText(Path.Combine(folder, "kernel.json"), spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.WriteAllBytes(Path.Combine(folder, "logo-64x64.png"), Logo.Png(64));
        File.WriteAllBytes(Path.Combine(folder, "logo-32x32.png"), Logo.Png(32));
        return new KernelSpecInstallation(name, folder, notes);
    }

    /// <summary>True when the kernelspec folder was written by this installer (kernel.json metadata.mlcourse).</summary>
    public static bool IsOurs(string folder)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "kernel.json")))?["metadata"]?["mlcourse"] is not null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The user's Jupyter kernels folder (what <c>jupyter kernelspec install --user</c> uses).</summary>
    public static string UserKernelsFolder() => Path.Combine(UserDataFolder(), "kernels");

    /// <summary>The kernels folder under an install prefix: PREFIX/share/jupyter/kernels.</summary>
    public static string PrefixKernelsFolder(string prefix) => Path.Combine(Path.GetFullPath(prefix), "share", "jupyter", "kernels");

    /// <summary>
    /// Every kernels folder Jupyter would search: <c>jupyter --paths --json</c> when jupyter is on the PATH, plus the
    /// standard folders (JUPYTER_PATH, the user folder, the system folders) for clients that bring their own Python.
    /// </summary>
    public static IReadOnlyList<string> SearchFolders()
    {
        var data = new List<string>();
        data.AddRange((Environment.GetEnvironmentVariable("JUPYTER_PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        data.Add(UserDataFolder());
        data.AddRange(JupyterDataPaths());
        if (OperatingSystem.IsWindows())
            data.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "jupyter"));
        else
            data.AddRange(["/usr/local/share/jupyter", "/usr/share/jupyter"]);
        return data.Select(d => Path.Combine(d, "kernels")).Distinct().ToList();
    }

    private static string UserDataFolder()
    {
        if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } explicitFolder) return explicitFolder;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsWindows()) return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "jupyter");
        if (OperatingSystem.IsMacOS()) return Path.Combine(home, "Library", "Jupyter");
        string xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".local", "share");
        return Path.Combine(xdg, "jupyter");
    }

    private static IEnumerable<string> JupyterDataPaths()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("jupyter", "--paths --json")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (process is null) return [];
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(15_000))
            {
                process.Kill(true);
                return [];
            }
            return JsonNode.Parse(output.Result)?["data"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or InvalidOperationException)
        {
            return [];
        }
    }
}

/// <summary>The kernel's logo, drawn by code: a white "C#" on the .NET purple, as a PNG.</summary>
internal static class Logo
{
    public static byte[] Png(int size)
    {
        var rgba = new byte[size * size * 4];
        double s = size / 64.0;
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            double px = (x + 0.5) / s, py = (y + 0.5) / s;   // in 64×64 design units
            bool inside = RoundedSquare(px, py);
            bool white = inside && (LetterC(px, py) || Sharp(px, py));
            int i = (y * size + x) * 4;
            (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]) = !inside ? ((byte)0, (byte)0, (byte)0, (byte)0)
                : white ? ((byte)255, (byte)255, (byte)255, (byte)255) : ((byte)0x51, (byte)0x2B, (byte)0xD4, (byte)255);
        }
        return PngEncoder.Encode(size, size, rgba);
    }

    private static bool RoundedSquare(double x, double y)
    {
        const double r = 12;
        double dx = Math.Max(Math.Max(r - x, x - (64 - r)), 0), dy = Math.Max(Math.Max(r - y, y - (64 - r)), 0);
        return x is >= 0 and <= 64 && y is >= 0 and <= 64 && dx * dx + dy * dy <= r * r;
    }

    private static bool LetterC(double x, double y)
    {
        double dx = x - 24, dy = y - 32, d = Math.Sqrt(dx * dx + dy * dy);
        double angle = Math.Atan2(dy, dx) * 180 / Math.PI;   // 0° points right: the opening of the C
        return d is >= 10 and <= 16 && Math.Abs(angle) >= 45;
    }

    private static bool Sharp(double x, double y)
    {
        bool vertical = y is >= 22 and <= 42 && (Math.Abs(x - 0.15 * (32 - y) - 45) <= 1.6 || Math.Abs(x - 0.15 * (32 - y) - 52) <= 1.6);
        bool horizontal = x is >= 41 and <= 57 && (Math.Abs(y - 28) <= 1.6 || Math.Abs(y - 36) <= 1.6);
        return vertical || horizontal;
    }
}

/// <summary>A minimal PNG writer (8-bit RGBA, one IDAT chunk, zlib from the BCL).</summary>
internal static class PngEncoder
{
    private static readonly uint[] crcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    public static byte[] Encode(int width, int height, byte[] rgba)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        WriteBigEndian(header, 0, (uint)width);
        WriteBigEndian(header, 4, (uint)height);
        header[8] = 8;    // bit depth
        header[9] = 6;    // colour type: RGBA
        Chunk(png, "IHDR", header);
        using var raw = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(raw, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);   // filter: none
                zlib.Write(rgba, y * width * 4, width * 4);
            }
        }
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        WriteBigEndian(length, 0, (uint)data.Length);
        png.Write(length);
        byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in typeBytes.Concat(data)) crc = crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        var crcBytes = new byte[4];
        WriteBigEndian(crcBytes, 0, crc ^ 0xFFFFFFFFu);
        png.Write(crcBytes);
    }

    private static void WriteBigEndian(byte[] buffer, int offset, uint value)
    {
        buffer[offset] = (byte)(value >> 24);
        buffer[offset + 1] = (byte)(value >> 16);
        buffer[offset + 2] = (byte)(value >> 8);
        buffer[offset + 3] = (byte)value;
    }
}
