using System.Text.RegularExpressions;

namespace MLCourse.Book;

/// <summary>The course's lecture order, read from docs/course-map.md's contents (one <c>- [NN · Title](#…)</c> line per chapter or homework).</summary>
public static partial class CourseOrder
{
    /// <summary>The names in the map's order: <c>00</c>…<c>20</c> for chapters, <c>hw-…</c> for homework.</summary>
    public static IReadOnlyList<string> Read(string courseMapPath)
    {
        if (!File.Exists(courseMapPath)) throw new FileNotFoundException($"The course map {courseMapPath} is missing: it gives the book's lecture order.", courseMapPath);
        var names = new List<string>();
        bool inContents = false;
        foreach (var line in File.ReadLines(courseMapPath))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                if (inContents) break;
                inContents = line.Trim() == "## Contents";
                continue;
            }
            if (inContents && Entry().Match(line) is { Success: true } m) names.Add(m.Groups["name"].Value);
        }
        if (names.Count == 0) throw new InvalidDataException($"{courseMapPath} has no \"## Contents\" list of \"- [NN · Title](#…)\" lines.");
        return names;
    }

    /// <summary>
    /// The notebooks in lecture order: a chapter name <c>NN</c> is <c>notebooks/NN-*.ipynb</c>, a homework name is
    /// <c>exercises/NAME.ipynb</c> (exercises, never solutions). A name without its notebook is an error.
    /// </summary>
    public static IReadOnlyList<(string Path, PageKind Kind)> Notebooks(string repoRoot)
    {
        var result = new List<(string, PageKind)>();
        foreach (var name in Read(Path.Combine(repoRoot, "docs", "course-map.md")))
        {
            if (name.StartsWith("hw-", StringComparison.Ordinal))
            {
                string path = Path.Combine(repoRoot, "exercises", name + ".ipynb");
                if (!File.Exists(path)) throw new FileNotFoundException($"The course map names homework {name}, but {path} does not exist (mlcourse release writes it).", path);
                result.Add((path, PageKind.Homework));
            }
            else
            {
                var matches = Directory.GetFiles(Path.Combine(repoRoot, "notebooks"), name + "-*.ipynb");
                if (matches.Length != 1) throw new FileNotFoundException($"The course map names chapter {name}, but notebooks/ has {matches.Length} notebooks {name}-*.ipynb.");
                result.Add((matches[0], PageKind.Chapter));
            }
        }
        return result;
    }

    [GeneratedRegex(@"^- \[(?<name>\d\d|hw-[a-z0-9-]+) · ")]
    private static partial Regex Entry();
}
