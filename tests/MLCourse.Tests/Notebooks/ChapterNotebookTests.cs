using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

/// <summary>Every chapter in notebooks/ runs top to bottom in quick mode and passes the notebook rules.</summary>
public class ChapterNotebookTests
{
    public static TheoryData<string> Chapters()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(Repo.Root, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Chapters))]
    public void Chapter_follows_the_notebook_rules(string name)
    {
        var notebook = Notebook.Load(Path.Combine(Repo.Root, "notebooks", name));
        Assert.Empty(NotebookLint.Check(notebook));
        Assert.All(notebook.Cells, c => Assert.Empty(c.Outputs));
    }

    [Theory]
    [MemberData(nameof(Chapters))]
    public async Task Chapter_runs_in_quick_mode(string name)
    {
        Repo.UseSharedData();
        var notebook = Notebook.Load(Path.Combine(Repo.Root, "notebooks", name));
        var report = await NotebookRunner.RunAsync(notebook, new RunOptions { Quick = true, CellTimeout = TimeSpan.FromMinutes(5) });
        Assert.True(report.Succeeded, string.Join(Environment.NewLine, report.Diagnoses));
        var html = notebook.Cells.SelectMany(c => c.Outputs).OfType<ResultOutput>().Select(o => o.Data.GetValueOrDefault("text/html", ""))
            .Concat(notebook.Cells.SelectMany(c => c.Outputs).OfType<DisplayOutput>().Select(o => o.Data.GetValueOrDefault("text/html", "")));
        Assert.Contains(html, h => h.Contains("Plotly.newPlot"));
    }
}
