using System.Text;
using System.Text.RegularExpressions;
using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

/// <summary>
/// The compatibility corpus (tests/Corpus): small notebooks, one per group of .NET Interactive features, run with
/// --continue-on-error and compared with stored transcripts. Set MLCOURSE_UPDATE_EXPECTED=1 to rewrite the ones that
/// differ (that run fails, so a rewrite never passes unseen; in CI it is refused).
/// </summary>
public partial class CorpusTests
{
    private static bool IsCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
                                || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GITHUB_ACTIONS"));

    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(Repo.Root, "tests", "Corpus")).Where(p => p.EndsWith(".ipynb") || p.EndsWith(".dib")).Order())
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Corpus_notebook_gives_its_expected_transcript(string name)
    {
        string path = Path.Combine(Repo.Root, "tests", "Corpus", name);
        var notebook = NotebookFiles.Load(path);
        await NotebookRunner.RunAsync(notebook, new RunOptions { ContinueOnError = true, CellTimeout = TimeSpan.FromMinutes(5) });
        string actual = Transcript(notebook);
        string expectedPath = path + ".expected.txt";
        string expected = File.ReadAllText(expectedPath);
        if (Environment.GetEnvironmentVariable("MLCOURSE_UPDATE_EXPECTED") == "1" && expected != actual)
        {
            // Rewriting is a local step whose diff a person reviews: the run that rewrites fails, and CI never rewrites.
            Assert.False(IsCi, "MLCOURSE_UPDATE_EXPECTED=1 is set in CI: transcripts are never rewritten there.");
            File.WriteAllText(expectedPath, actual);
            Assert.Fail($"{name}: rewrote {Path.GetFileName(expectedPath)}; review the diff (git diff tests/Corpus) and run the test again without MLCOURSE_UPDATE_EXPECTED.");
        }
        Assert.Equal(expected, actual);
    }

    /// <summary>Every code cell's outputs as stable text: stream text, each MIME type's text, errors' name and message.</summary>
    public static string Transcript(Notebook notebook)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (cell.Kind != CellKind.Code) continue;
            sb.Append($"## cell {i + 1}\n");
            foreach (var output in cell.Outputs)
            {
                switch (output)
                {
                    case StreamOutput s:
                        sb.Append($"{s.Name}: {Normalize(s.Text)}\n");
                        break;
                    case DisplayOutput d:
                        Data(sb, "display", d.Data);
                        break;
                    case ResultOutput r:
                        Data(sb, "result", r.Data);
                        break;
                    case ErrorOutput e:
                        sb.Append($"error {e.Name}: {Normalize(e.Value)}\n");
                        break;
                }
            }
        }
        return sb.ToString();
    }

    private static void Data(StringBuilder sb, string kind, IReadOnlyDictionary<string, string> data)
    {
        foreach (var (mime, content) in data.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // HTML is long and partly random (ids); its presence and a short prefix are what matter here.
            string text = mime == "text/html" ? content[..Math.Min(content.Length, 40)] + "…" : content;
            sb.Append($"{kind} {mime}: {Normalize(text)}\n");
        }
    }

    private static string Normalize(string text) =>
        Numbers().Replace(text.Replace("\r\n", "\n").TrimEnd('\n'), m => m.Groups["unit"].Value.Length > 0 ? "<n> " + m.Groups["unit"].Value : m.Value)
            .Replace("\n", "\n    ");

    [GeneratedRegex(@"\d+(\.\d+)? (?<unit>ms)")]
    private static partial Regex Numbers();
}
