using System.CommandLine;
using MLCourse.Data;

namespace MLCourse.Cli;

/// <summary><c>mlcourse data list|fetch NAME…|verify [NAME…]</c>: the course's data sets (MLCourse.Data.DataCatalog).</summary>
internal static class DataCommand
{
    public static Command Create() => new("data", "The course's data sets: where each is found, download with checksum check, verification.")
    {
        List(), Fetch(), Verify(),
    };

    private static Command List()
    {
        var command = new Command("list", "Each data set: the folder it is found in, or missing (and the command that fetches it).");
        command.SetAction(_ =>
        {
            foreach (var location in DataCatalog.List())
                Console.WriteLine(location.Found
                    ? $"✓ {location.Set.Name,-34} {location.Folder} ({location.Variant})"
                    : $"✗ {location.Set.Name,-34} missing: {location.MissingHint}");
            Console.WriteLine($"Looked in: $MLCOURSE_DATA/NAME, the repository's data/NAME, {DataCatalog.CacheFolder}/NAME, system folders.");
            return 0;
        });
        return command;
    }

    private static Command Fetch()
    {
        var names = new Argument<string[]>("names") { Description = "Data sets to download (see `mlcourse data list`).", Arity = ArgumentArity.OneOrMore };
        var destination = new Option<string?>("--to") { Description = "Folder to download into (default: the user cache folder NAME/ of each set)." };
        var command = new Command("fetch", "Download data sets, checking size and checksums; files already present and correct are kept.") { names, destination };
        command.SetAction(async (parse, cancellationToken) =>
        {
            int failed = 0;
            string[] sets = parse.GetValue(names)!;
            string? to = parse.GetValue(destination);
            foreach (string name in sets)
            {
                try
                {
                    string? target = to is null ? null : (sets.Length > 1 ? Path.Combine(to, name) : to);
                    string folder = await DataCatalog.FetchAsync(name, target, cancellationToken);
                    Console.WriteLine($"✓ {name}: {folder}");
                }
                catch (DataSetException e)
                {
                    Console.Error.WriteLine($"✗ {name}: {e.Message}");
                    failed++;
                }
            }
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Verify()
    {
        var names = new Argument<string[]>("names") { Description = "Data sets to verify (default: every set that is found).", Arity = ArgumentArity.ZeroOrMore };
        var path = new Option<string?>("--path") { Description = "Verify the files in this folder instead of where the set is found (one set only)." };
        var command = new Command("verify", "Recompute each file's checksum: ok, mismatch or missing; exit code 1 if any is not ok.") { names, path };
        command.SetAction(parse =>
        {
            string[] requested = parse.GetValue(names) ?? [];
            string? folder = parse.GetValue(path);
            var sets = requested.Length > 0 ? requested : DataCatalog.List().Where(l => l.Found).Select(l => l.Set.Name).ToArray();
            int bad = 0;
            foreach (string name in sets)
            {
                VerifyResult result;
                try { result = DataCatalog.Verify(name, folder); }
                catch (DataSetException e)
                {
                    Console.Error.WriteLine($"✗ {name}: {e.Message}");
                    bad++;
                    continue;
                }
                Console.WriteLine($"{(result.Ok ? "✓" : "✗")} {name}: {result.Folder ?? "not found"}{(result.Variant is null ? "" : $" ({result.Variant})")}");
                foreach (var file in result.Files)
                    Console.WriteLine($"    {file.Status.ToString().ToLowerInvariant(),-8} {file.Name}  {file.Detail}");
                if (!result.Ok) bad++;
            }
            return bad == 0 ? 0 : 1;
        });
        return command;
    }
}
