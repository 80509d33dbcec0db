namespace MLCourse.Tests;

/// <summary>Where the repository (and the shared data beside it) is, for tests that read real files.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The staged data sets (<c>../shared/data</c> next to the checkout), when present.</summary>
    public static string? SharedData
    {
        get
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable("MLCOURSE_DATA");
            if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment)) return fromEnvironment;
            string beside = Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));
            return Directory.Exists(beside) ? beside : null;
        }
    }

    /// <summary>Points the data loaders at the shared data (as .ci/run does) when the environment does not already.</summary>
    public static void UseSharedData()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MLCOURSE_DATA")) && SharedData is { } data)
            Environment.SetEnvironmentVariable("MLCOURSE_DATA", data);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLCourse.slnx"))) return dir.FullName;
        throw new InvalidOperationException("MLCourse.slnx not found above " + AppContext.BaseDirectory);
    }
}
