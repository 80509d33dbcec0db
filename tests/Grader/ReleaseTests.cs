using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

public sealed class ReleaseTests
{
    [Fact]
    public void A_region_becomes_a_stub_that_throws_with_the_TODO_above_it()
    {
        const string source = """
            double Accuracy(Tensor logits, Tensor labels)
            {
                // TODO: return the fraction of right rows.
                // BEGIN SOLUTION
                return 1.0;
                // END SOLUTION
            }
            """;
        string stub = SolutionRelease.StubRegions(source, null, "test");
        Assert.Equal("""
            double Accuracy(Tensor logits, Tensor labels)
            {
                // TODO: return the fraction of right rows.
                throw new NotImplementedException("return the fraction of right rows.");
            }
            """, stub);
    }

    [Fact]
    public void A_TODO_that_opens_the_region_is_kept_and_the_cell_metadata_is_the_fallback()
    {
        string inside = SolutionRelease.StubRegions("// BEGIN SOLUTION\n// TODO: train it\n// for 3 epochs\nvar x = 1;\n// END SOLUTION", null, "test");
        Assert.Equal("// TODO: train it\n// for 3 epochs\nthrow new NotImplementedException(\"train it for 3 epochs\");", inside);

        var graded = new GradedCell("hw.q1", 2, "Write \"it\".", 1);
        string fromMetadata = SolutionRelease.StubRegions("  // BEGIN SOLUTION\n  x = 2;\n  // END SOLUTION", graded, "test");
        Assert.Equal("  throw new NotImplementedException(\"Write \\\"it\\\".\");", fromMetadata);
    }

    [Theory]
    [InlineData("Two lines:\nfirst, then second.")]
    [InlineData("A tab\tand a carriage return\r\nand a quote \" and a backslash \\ and \u2028 a line separator and \u0001.")]
    public void An_instruction_with_newlines_or_control_characters_makes_a_stub_that_compiles_to_the_same_text(string instruction)
    {
        var graded = new GradedCell("hw.q1", 2, instruction, 1);
        string stub = SolutionRelease.StubRegions("// BEGIN SOLUTION\nx = 2;\n// END SOLUTION", graded, "test");
        var tree = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(stub,
            new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(kind: Microsoft.CodeAnalysis.SourceCodeKind.Script));
        Assert.Empty(tree.GetDiagnostics());
        var literal = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax>().Single();
        Assert.Equal(instruction, literal.Token.ValueText);
    }

    [Theory]
    [InlineData("// BEGIN SOLUTION\nx = 1;", "without a // END SOLUTION")]
    [InlineData("x = 1;\n// END SOLUTION", "without a // BEGIN SOLUTION")]
    [InlineData("// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION", "inside another solution region")]
    public void Unbalanced_markers_name_the_cell_and_line(string source, string message)
    {
        var e = Assert.Throws<SolutionMarkerException>(() => SolutionRelease.StubRegions(source, null, "hw.ipynb: cell 3"));
        Assert.Contains("hw.ipynb: cell 3, line", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_release_keeps_graded_metadata_and_prose_and_clears_outputs()
    {
        var solution = Notebook.Load(GraderFixture.SolutionPath);
        solution.Cells.First(c => c.Kind == CellKind.Code).Outputs.Add(new StreamOutput("stdout", "hi\n"));
        var exercise = SolutionRelease.Release(solution);

        Assert.Equal(solution.Cells.Count, exercise.Cells.Count);
        Assert.Equal(GradedCell.Find(solution), GradedCell.Find(exercise));
        Assert.All(exercise.Cells, c => Assert.Empty(c.Outputs));
        Assert.DoesNotContain(exercise.Cells, c => c.Source.Contains("BEGIN SOLUTION") || c.Source.Contains("END SOLUTION"));
        Assert.Equal(solution.Cells.Where(c => c.Kind == CellKind.Markdown).Select(c => c.Source),
                     exercise.Cells.Where(c => c.Kind == CellKind.Markdown).Select(c => c.Source));
        Assert.All(GradedCell.Find(exercise), g => Assert.Contains("throw new NotImplementedException(", exercise.Cells[g.CellIndex - 1].Source));
        Assert.Empty(NotebookLint.Check(exercise));
    }

    [Fact]
    public void The_exercises_folder_is_in_sync_with_the_solutions()
    {
        string solutions = Path.Combine(GraderFixture.RepoRoot, "solutions");
        foreach (string path in Directory.GetFiles(solutions, "*.ipynb"))
        {
            string released = SolutionRelease.Release(Notebook.Load(path)).ToJson();
            string exercise = Path.Combine(GraderFixture.RepoRoot, "exercises", Path.GetFileName(path));
            Assert.True(File.Exists(exercise), $"{exercise} is missing: run `mlcourse release`.");
            Assert.True(released == File.ReadAllText(exercise),
                $"{exercise} differs from the release of {path}: exercises are never edited by hand; run `mlcourse release`.");
        }
    }

    [Fact]
    public void The_points_in_the_solution_match_the_points_of_the_checks()
    {
        var checks = CheckFiles.Load("hw-mnist-mlp", [GraderFixture.ChecksFolder]);
        var graded = GradedCell.Find(Notebook.Load(GraderFixture.SolutionPath));
        Assert.Equal(graded.Select(g => (g.Id, g.Points ?? 0)), checks.Select(c => (c.Question, c.Points)));
    }
}
