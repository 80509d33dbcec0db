using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>What <c>mlcourse autograder gradescope</c> puts into the bundle's <c>autograder.json</c>: how to grade there.</summary>
public sealed record AutograderConfig
{
    /// <summary>The homework id (its checks are <c>checks/HOMEWORK/</c> in the bundle).</summary>
    public required string Homework { get; init; }

    /// <summary>Grade in quick mode.</summary>
    public bool Quick { get; init; }

    /// <summary>Per-cell limit in seconds, or null for the grader's own.</summary>
    public double? CellTimeoutSeconds { get; init; }

    /// <summary>Whole-grading limit in seconds, or null for the grader's own.</summary>
    public double? TotalTimeoutSeconds { get; init; }

    /// <summary>Memory cap of the worker in MB, or null for the grader's own.</summary>
    public long? MemoryLimitMb { get; init; }

    /// <summary>The libtorch package <c>setup.sh</c> installs (id, version, sha512 of the .nupkg in hex, or empty when unknown).</summary>
    public string[] Libtorch { get; init; } = [];

    /// <summary>The data sets copied into <c>data/</c>.</summary>
    public string[] Data { get; init; } = [];
}

/// <summary>What building a bundle produced.</summary>
/// <param name="Zip">The zip written.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Data">The data sets inside.</param>
/// <param name="Checks">The check files inside.</param>
public sealed record BundleInfo(string Zip, long Bytes, IReadOnlyList<string> Data, IReadOnlyList<string> Checks);

/// <summary>
/// Gradescope's autograder (its documented contract: a zip with <c>setup.sh</c> and <c>run_autograder</c> at the root,
/// unpacked into <c>/autograder/source</c>; <c>run_autograder</c> reads <c>/autograder/submission</c> and writes
/// <c>/autograder/results/results.json</c>). <see cref="Build"/> makes the bundle; <see cref="RunAsync"/> is what its
/// <c>run_autograder</c> calls. The root is <c>/autograder</c> unless <c>AUTOGRADER_ROOT</c> names another (tests).
/// </summary>
public static class Gradescope
{
    /// <summary>The environment variable that moves the <c>/autograder</c> root (for tests and local dry runs).</summary>
    public const string RootVariable = "AUTOGRADER_ROOT";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>
    /// Writes the bundle: <c>setup.sh</c>, <c>run_autograder</c>, <c>install-libtorch.sh</c> (with <c>libtorch.txt</c>: package id,
    /// version, sha512), <c>autograder.json</c>, the grader's
    /// framework-dependent binaries for linux-x64 (<c>grader/</c>, from <paramref name="graderFolder"/>, without the other
    /// platforms' native files and without libtorch, which <c>setup.sh</c> downloads: it is 460 MB), the homework's checks
    /// (<c>checks/HOMEWORK/</c>) and its data sets (<c>data/NAME/</c>).
    /// </summary>
    /// <param name="zipPath">The zip to write.</param>
    /// <param name="config">How to grade (homework, mode, limits); its <see cref="AutograderConfig.Libtorch"/> and <see cref="AutograderConfig.Data"/> are filled here.</param>
    /// <param name="graderFolder">A build or publish output of the CLI (holding <c>MLCourse.Cli.dll</c> and its <c>deps.json</c>).</param>
    /// <param name="checkFolders">Where the homework's checks are (as <see cref="GradeOptions.CheckFolders"/>).</param>
    /// <param name="dataSets">Data sets to copy, by manifest name; each must be found on this machine.</param>
    public static BundleInfo Build(string zipPath, AutograderConfig config, string graderFolder, IReadOnlyList<string> checkFolders, IReadOnlyList<string> dataSets)
    {
        string grader = Path.GetFullPath(graderFolder);
        string deps = Path.Combine(grader, "MLCourse.Cli.deps.json");
        if (!File.Exists(Path.Combine(grader, "MLCourse.Cli.dll")) || !File.Exists(deps))
            throw new GradingException($"{graderFolder} holds no build of the grader (MLCourse.Cli.dll and MLCourse.Cli.deps.json).");
        var checks = CheckFiles.Load(config.Homework, checkFolders);
        if (checks.Count == 0)
            throw new GradingException($"no checks for homework '{config.Homework}' in {string.Join(", ", checkFolders)}.");
        var (libtorch, libtorchFiles) = Libtorch(deps);
        var locations = dataSets.Select(name => MLCourse.Data.DataCatalog.Locate(name)).ToList();
        if (locations.FirstOrDefault(l => !l.Found) is { } missing)
            throw new GradingException($"data set {missing.Set.Name} is not on this machine: {missing.MissingHint}.");
        config = config with { Libtorch = libtorch, Data = locations.Select(l => l.Set.Name).ToArray() };

        string full = Path.GetFullPath(zipPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string partial = full + ".partial";
        var checkFiles = new List<string>();
        using (var zip = ZipFile.Open(partial, ZipArchiveMode.Create))
        {
            Text(zip, "setup.sh", SetupScript, executable: true);
            Text(zip, "run_autograder", RunScript, executable: true);
            Text(zip, "install-libtorch.sh", LibtorchScript, executable: true);
            Text(zip, "autograder.json", JsonSerializer.Serialize(config, Json) + "\n", executable: false);
            Text(zip, "libtorch.txt", string.Join(" ", libtorch) + "\n", executable: false);
            foreach (string file in Directory.EnumerateFiles(grader, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string relative = Path.GetRelativePath(grader, file).Replace('\\', '/');
                if (KeepGraderFile(relative, libtorchFiles))
                    zip.CreateEntryFromFile(file, "grader/" + relative, CompressionLevel.Optimal);
            }
            foreach (string file in checks.Select(c => c.File).Distinct(StringComparer.Ordinal))
            {
                checkFiles.Add(Path.GetFileName(file));
                zip.CreateEntryFromFile(file, $"checks/{config.Homework}/{Path.GetFileName(file)}", CompressionLevel.Optimal);
            }
            foreach (string folder in checkFolders)
                if (Path.Combine(folder, config.Homework, "packages.txt") is var packages && File.Exists(packages))
                {
                    zip.CreateEntryFromFile(packages, $"checks/{config.Homework}/packages.txt", CompressionLevel.Optimal);
                    break;
                }
            foreach (var location in locations)
                foreach (string file in Directory.EnumerateFiles(location.Folder!, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    zip.CreateEntryFromFile(file, $"data/{location.Set.Name}/{Path.GetRelativePath(location.Folder!, file).Replace('\\', '/')}", CompressionLevel.Optimal);
        }
        File.Move(partial, full, overwrite: true);
        return new BundleInfo(full, new FileInfo(full).Length, config.Data, checkFiles);
    }

    /// <summary>
    /// The data sets a homework's notebook loads, as far as its source tells: a data loader of the library (a type with a
    /// <c>const string Name</c> naming a manifest set, e.g. <c>Mnist</c>) used as <c>Mnist.</c>, or a set's name quoted.
    /// </summary>
    public static IReadOnlyList<string> DataSetsUsedBy(Notebook notebook)
    {
        string source = string.Join("\n", notebook.Cells.Where(c => c.Kind == CellKind.Code).Select(c => c.Source));
        var known = MLCourse.Data.DataCatalog.Sets.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in typeof(MLCourse.Data.DataCatalog).Assembly.GetExportedTypes())
            if (type.GetField("Name", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string name && known.Contains(name)
                && source.Contains(type.Name + ".", StringComparison.Ordinal))
                used.Add(name);
        foreach (string name in known)
            if (source.Contains($"\"{name}\"", StringComparison.Ordinal)) used.Add(name);
        return used.ToList();
    }

    /// <summary>
    /// What <c>run_autograder</c> does: finds the student's notebook in <c>ROOT/submission</c>, grades it with the bundle's
    /// checks and settings, and writes <c>ROOT/results/results.json</c> (always: a submission without a notebook, or one the
    /// grader cannot run, gets every question at 0 and the reason). Returns the report.
    /// </summary>
    /// <param name="root">The <c>/autograder</c> folder.</param>
    /// <param name="workerFileName">The program that runs the grading worker (see <see cref="GradeOptions.WorkerFileName"/>).</param>
    /// <param name="workerArguments">Its arguments.</param>
    /// <param name="cancellationToken">Stops grading.</param>
    public static async Task<GradeReport> RunAsync(string root, string workerFileName, IReadOnlyList<string> workerArguments, CancellationToken cancellationToken = default)
    {
        string source = Path.Combine(root, "source");
        var config = JsonSerializer.Deserialize<AutograderConfig>(await File.ReadAllTextAsync(Path.Combine(source, "autograder.json"), cancellationToken), Json)
                     ?? throw new GradingException("autograder.json is empty.");
        var defaults = new GradeOptions { WorkerFileName = workerFileName };
        var options = defaults with
        {
            Quick = config.Quick,
            Homework = config.Homework,
            CellTimeout = config.CellTimeoutSeconds is double cell ? TimeSpan.FromSeconds(cell) : defaults.CellTimeout,
            TotalTimeout = config.TotalTimeoutSeconds is double total ? TimeSpan.FromSeconds(total) : defaults.TotalTimeout,
            MemoryLimitMb = config.MemoryLimitMb ?? defaults.MemoryLimitMb,
            CheckFolders = [Path.Combine(source, "checks")],
            WorkerArguments = workerArguments,
        };
        string results = Path.Combine(root, "results");
        Directory.CreateDirectory(results);
        var submission = FindSubmission(Path.Combine(root, "submission"), config.Homework);
        var result = (await Batch.GradeAsync([submission], options, 1, cancellationToken: cancellationToken))[0];
        await File.WriteAllTextAsync(Path.Combine(results, "results.json"), result.Report.ToGradescopeJson(), cancellationToken);
        return result.Report;
    }

    /// <summary>
    /// The notebook in a Gradescope submission folder: <c>HOMEWORK.ipynb</c> anywhere in it, else its only <c>*.ipynb</c>;
    /// otherwise a <see cref="Submission"/> whose <see cref="Submission.Problem"/> says what to upload.
    /// </summary>
    public static Submission FindSubmission(string folder, string homework)
    {
        if (!Directory.Exists(folder)) return new Submission("submission", folder, "nothing was submitted.");
        var notebooks = Directory.EnumerateFiles(folder, "*.ipynb", SearchOption.AllDirectories)
            .Where(f => !f.Contains(".ipynb_checkpoints", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var named = notebooks.Where(f => Path.GetFileNameWithoutExtension(f) == homework).ToList();
        if (named.Count >= 1) return new Submission("submission", named[0]);
        if (notebooks.Count == 1) return new Submission("submission", notebooks[0]);
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).Take(5).ToList();
        return new Submission("submission", folder, notebooks.Count == 0
            ? $"no notebook (.ipynb) was submitted{(files.Count > 0 ? $" (got {string.Join(", ", files)})" : "")}: upload {homework}.ipynb."
            : $"{notebooks.Count} notebooks were submitted ({string.Join(", ", notebooks.Select(f => Path.GetRelativePath(folder, f)))}): upload only {homework}.ipynb.");
    }

    /// <summary>The libtorch package the grader was built with (id, version, sha512) and the native files it brings.</summary>
    private static (string[] Package, HashSet<string> Files) Libtorch(string depsJson)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        string[] package = [];
        var targets = JsonNode.Parse(File.ReadAllText(depsJson))?["targets"]?.AsObject().FirstOrDefault().Value?.AsObject();
        foreach (var (key, value) in targets ?? [])
        {
            if (!key.StartsWith("libtorch-", StringComparison.OrdinalIgnoreCase) || !key.Contains("-linux-x64/", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var (path, _) in value?["runtimeTargets"]?.AsObject() ?? []) files.Add(path);
            string[] idVersion = key.Split('/');
            string nupkg = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache ? cache
                                            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
                                        idVersion[0].ToLowerInvariant(), idVersion[1], $"{idVersion[0].ToLowerInvariant()}.{idVersion[1]}.nupkg");
            string sha = "";
            if (File.Exists(nupkg))
            {
                using var stream = File.OpenRead(nupkg);
                sha = Convert.ToHexStringLower(SHA512.HashData(stream));
            }
            package = [idVersion[0], idVersion[1], sha];
        }
        if (package.Length == 0) throw new GradingException($"{depsJson} names no libtorch package for linux-x64 (a CPU build of the grader is needed).");
        return (package, files);
    }

    private static bool KeepGraderFile(string relative, HashSet<string> libtorch)
    {
        if (libtorch.Contains(relative)) return false;                                   // setup.sh downloads these
        if (relative.StartsWith("runtimes/", StringComparison.Ordinal))
            return relative.StartsWith("runtimes/linux-x64/", StringComparison.Ordinal);  // Gradescope runs linux-x64
        if (relative.EndsWith(".xml", StringComparison.Ordinal)) return false;           // API documentation
        // Roslyn's translated messages (cs/, de/, …): the grader speaks English.
        return !(relative.Contains('/') && relative.EndsWith(".resources.dll", StringComparison.Ordinal));
    }

    private static void Text(ZipArchive zip, string name, string text, bool executable)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        // Unix mode in the upper 16 bits (regular file, rwxr-xr-x or rw-r--r--): unzip and Gradescope keep it.
        entry.ExternalAttributes = (executable ? 0x81ED : 0x81A4) << 16;
        using var stream = entry.Open();
        stream.Write(Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n")));
    }

    // Gradescope runs setup.sh once, as root, when it builds the autograder's image (Ubuntu; network on).
    private const string SetupScript = """
        #!/usr/bin/env bash
        # Gradescope runs this once, as root, while it builds the autograder image (Ubuntu 22.04 or 24.04, network on).
        # It installs the .NET 10 runtime (Microsoft's dotnet-install script: the same on every Ubuntu release, no
        # package feed to configure), the few system libraries the grader needs, and libtorch (install-libtorch.sh).
        set -euo pipefail
        cd "$(dirname "$0")"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends ca-certificates curl unzip libicu-dev libgomp1
        curl -fsSL --retry 3 https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh
        bash /tmp/dotnet-install.sh --channel 10.0 --runtime dotnet --install-dir /usr/share/dotnet
        ln -sf /usr/share/dotnet/dotnet /usr/local/bin/dotnet
        bash ./install-libtorch.sh
        # The grader starts (fails the image build here rather than every submission later).
        DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet grader/MLCourse.Cli.dll --version
        echo "MLCourse autograder installed."
        """;

    // Gradescope copies run_autograder to /autograder/run_autograder and runs it from /autograder for each submission.
    private const string RunScript = """
        #!/usr/bin/env bash
        # Gradescope runs this for each submission: the notebook is in $ROOT/submission, the results go to
        # $ROOT/results/results.json. ROOT is /autograder; AUTOGRADER_ROOT moves it (tests, dry runs on a laptop).
        set -uo pipefail
        ROOT="${AUTOGRADER_ROOT:-/autograder}"
        SOURCE="$ROOT/source"
        mkdir -p "$ROOT/results"
        export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
        export MLCOURSE_DATA="$SOURCE/data" MLCOURSE_OFFLINE=1
        export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
        DOTNET="$(command -v dotnet || echo /usr/share/dotnet/dotnet)"
        "$DOTNET" "$SOURCE/grader/MLCourse.Cli.dll" autograder run-gradescope --root "$ROOT"
        code=$?
        if [ ! -s "$ROOT/results/results.json" ]; then
          # The grader could not even start: say so to the student instead of Gradescope's generic error.
          printf '{"score": 0, "output": "The autograder failed to start (exit code %s); your instructor has been told. Please resubmit later.", "tests": []}\n' "$code" > "$ROOT/results/results.json"
        fi
        exit 0
        """;

    // Downloads (or, for tests, copies from MLCOURSE_LIBTORCH_NUPKG) the libtorch package of autograder.json and unpacks
    // its native libraries where the grader loads them.
    private const string LibtorchScript = """
        #!/usr/bin/env bash
        # Installs libtorch's native libraries (the package and version the grader was built with, from libtorch.txt)
        # into grader/runtimes/linux-x64/native, where TorchSharp loads them. MLCOURSE_LIBTORCH_NUPKG may name a local
        # .nupkg instead of nuget.org (offline machines, tests). The sha512 recorded when the bundle was built is checked.
        set -euo pipefail
        here="$(cd "$(dirname "$0")" && pwd)"
        read -r id version sha < "$here/libtorch.txt"
        lower="$(echo "$id" | tr '[:upper:]' '[:lower:]')"
        source="${MLCOURSE_LIBTORCH_NUPKG:-https://api.nuget.org/v3-flatcontainer/$lower/$version/$lower.$version.nupkg}"
        work="$(mktemp -d)"
        trap 'rm -rf "$work"' EXIT
        case "$source" in
          http://*|https://*) curl -fsSL --retry 3 -o "$work/libtorch.nupkg" "$source" ;;
          *) cp "$source" "$work/libtorch.nupkg" ;;
        esac
        if [ -n "${sha:-}" ]; then
          echo "$sha  $work/libtorch.nupkg" | sha512sum -c --quiet - || { echo "install-libtorch.sh: $source is not $id $version (sha512 differs)" >&2; exit 1; }
        fi
        mkdir -p "$here/grader/runtimes/linux-x64/native"
        unzip -q -o -j "$work/libtorch.nupkg" 'runtimes/linux-x64/native/*' -d "$here/grader/runtimes/linux-x64/native"
        echo "installed $id $version into grader/runtimes/linux-x64/native"
        """;
}
