using MLCourse.Notebooks;

namespace MLCourse.Tests.Kernel;

/// <summary>The engine's editor services that the kernel's is_complete, complete and inspect replies use.</summary>
public class CompletionTests
{
    [Theory]
    [InlineData("var x = 1;", SubmissionState.Complete)]
    [InlineData("x + 1", SubmissionState.Complete)]
    [InlineData("#r \"nuget: MLCourse, 0.1.0\"\nusing MLCourse;", SubmissionState.Complete)]
    [InlineData("for (int i = 0; i < 3; i++) {", SubmissionState.Incomplete)]
    [InlineData("var s = \"\"\"\nopen raw string", SubmissionState.Incomplete)]
    [InlineData("int = = 3;", SubmissionState.Invalid)]
    public void Submissions_are_classified_with_roslyn(string code, SubmissionState expected) =>
        Assert.Equal(expected, ScriptSession.CheckSubmission(code));

    [Fact]
    public async Task Completions_see_the_variables_and_types_of_earlier_cells()
    {
        using var session = new ScriptSession();
        var result = await session.ExecuteAsync("var numbers = new List<int> { 1, 2 };\nrecord Point(double X, double Y);", new OutputCollector());
        Assert.Equal(CellStatus.Ok, result.Status);

        var members = session.GetCompletions("numbers.Cou", 11);
        Assert.Equal(8, members.Start);
        Assert.Contains(members.Items, i => i.Text == "Count" && i.Kind == "property");
        Assert.Contains(session.GetCompletions("numbers.", 8).Items, i => i.Text == "Select");   // extension methods

        var scope = session.GetCompletions("var p = new Poi", 15);
        Assert.Contains(scope.Items, i => i.Text == "Point" && i.Kind == "class");
        Assert.Contains(session.GetCompletions("numb", 4).Items, i => i.Text == "numbers");
        Assert.Contains(session.GetCompletions("Math.Ab", 7).Items, i => i.Text == "Abs" && i.Kind == "method");
        Assert.Contains(session.GetCompletions("System.Collections.Gen", 22).Items, i => i.Text == "Generic" && i.Kind == "namespace");
        Assert.Contains(session.GetCompletions("whi", 3).Items, i => i.Text == "while" && i.Kind == "keyword");
    }

    [Fact]
    public void Inspect_shows_the_symbol_under_the_cursor()
    {
        using var session = new ScriptSession();
        Assert.Contains("Math.Sqrt(double)", session.Inspect("Math.Sqrt(2)", 6));
        Assert.Null(session.Inspect("   ", 1));
    }
}
