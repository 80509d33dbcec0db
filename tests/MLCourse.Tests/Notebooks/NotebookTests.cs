using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

public class NotebookTests
{
    private const string Minimal = """
        {"cells": [
          {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
          {"cell_type": "code", "execution_count": null, "metadata": {"custom": {"keep": true}}, "outputs": [], "source": ["1 + 1"]}
        ], "metadata": {"kernelspec": {"name": ".net-csharp"}, "extra": 5}, "nbformat": 4, "nbformat_minor": 5}
        """;

    [Fact]
    public void Parsing_reads_cells_sources_and_metadata()
    {
        var notebook = Notebook.Parse(Minimal);
        Assert.Equal(2, notebook.Cells.Count);
        Assert.Equal("# Title\ntext", notebook.Cells[0].Source);
        Assert.Equal(CellKind.Code, notebook.Cells[1].Kind);
        Assert.True(notebook.Cells[1].Metadata["custom"]!["keep"]!.GetValue<bool>());
    }

    [Fact]
    public void Outputs_and_unknown_metadata_survive_a_round_trip()
    {
        var notebook = Notebook.Parse(Minimal);
        notebook.Cells[1].Outputs.Add(new StreamOutput("stdout", "line 1\nline 2\n"));
        notebook.Cells[1].Outputs.Add(new DisplayOutput(new Dictionary<string, string> { ["text/html"] = "<b>x</b>", ["text/plain"] = "x" }));
        notebook.Cells[1].Outputs.Add(new ResultOutput(new Dictionary<string, string> { ["text/plain"] = "2" }, 1));
        notebook.Cells[1].Outputs.Add(new ErrorOutput("E", "bad", ["E: bad", "  at cell"]));
        notebook.Cells[1].ExecutionCount = 1;
        var again = Notebook.Parse(notebook.ToJson());
        Assert.Equal(notebook.ToJson(), again.ToJson());
        Assert.Equal(5, again.Metadata["extra"]!.GetValue<int>());
        Assert.Equal(4, again.Cells[1].Outputs.Count);
        Assert.Equal("line 1\nline 2\n", Assert.IsType<StreamOutput>(again.Cells[1].Outputs[0]).Text);
    }

    [Fact]
    public void Broken_json_gives_a_clear_error_naming_the_file()
    {
        var error = Assert.Throws<NotebookFormatException>(() => Notebook.Parse("{\"cells\": [", "broken.ipynb"));
        Assert.StartsWith("broken.ipynb: not valid notebook JSON", error.Message);
        var notNotebook = Assert.Throws<NotebookFormatException>(() => Notebook.Parse("{\"a\": 1}", "x.ipynb"));
        Assert.Contains("no \"cells\" array", notNotebook.Message);
    }

    [Fact]
    public void Dib_files_split_into_cells_by_language_and_convert_back()
    {
        const string dib = "#!meta\n\n{\"kernelInfo\":{}}\n\n#!markdown\n\n# Hello\n\n#!csharp\n\nvar x = 1;\n\n#!fsharp\n\nlet y = 2\n";
        var notebook = NotebookFiles.ParseDib(dib);
        Assert.Equal([CellKind.Markdown, CellKind.Code, CellKind.Code], notebook.Cells.Select(c => c.Kind));
        Assert.Equal("var x = 1;", notebook.Cells[1].Source);
        Assert.Equal("fsharp", notebook.Cells[2].DeclaredLanguage);
        var again = NotebookFiles.ParseDib(NotebookFiles.ToDib(notebook));
        Assert.Equal(notebook.Cells.Select(c => c.Source), again.Cells.Select(c => c.Source));
    }

    [Fact]
    public void Lint_accepts_a_workbook_notebook_and_names_each_problem()
    {
        var good = new Notebook();
        good.Cells.Add(new Cell(CellKind.Code, "#r \"nuget: MLCourse, 0.1.0\"\nusing MLCourse;", Notebook.CSharpCellMetadata()));
        Assert.Empty(NotebookLint.Check(good));

        var bad = Notebook.Parse(Minimal);
        bad.Cells[1].Outputs.Add(new ErrorOutput("E", "stale", []));
        var problems = NotebookLint.Check(bad);
        Assert.Contains(problems, p => p.Contains("language_info"));
        Assert.Contains(problems, p => p.StartsWith("cell 2: code cells need metadata"));
        Assert.Contains(problems, p => p.StartsWith("cell 2: the first code cell must load the library"));
        Assert.Contains(problems, p => p.StartsWith("cell 2: holds a stale error output"));
    }
}
