using MLCourse.Grading;

namespace MLCourse.Grader.Tests;

/// <summary>
/// Every homework in solutions/ (besides hw-mnist-mlp, which has its own, more detailed tests): the solution earns
/// full marks and its released exercise, untouched, earns zero with every question "not attempted" — in quick mode; neither
/// grading shows a native frame, a path of the grading machine or check source to the student.
/// </summary>
public sealed class AllHomeworkTests
{
    public static TheoryData<string> Homework()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(GraderFixture.RepoRoot, "solutions"), "*.ipynb").Order(StringComparer.Ordinal))
            if (Path.GetFileName(path) != "hw-mnist-mlp.ipynb") data.Add(Path.GetFileNameWithoutExtension(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Homework))]
    public async Task The_solution_earns_full_marks_and_the_untouched_exercise_zero(string homework)
    {
        var solution = await GraderFixture.GradeAsync(Path.Combine(GraderFixture.RepoRoot, "solutions", homework + ".ipynb"));
        Assert.True(solution.MaxScore > 0, solution.ToTable());
        Assert.True(solution.Score == solution.MaxScore, solution.ToTable());

        var exercise = await GraderFixture.GradeAsync(Path.Combine(GraderFixture.RepoRoot, "exercises", homework + ".ipynb"));
        Assert.True(exercise.Score == 0, exercise.ToTable());
        Assert.All(exercise.Questions, q => Assert.True(q.NotAttempted, $"{q.Question}: {GraderFixture.Feedback(q)}"));
        MnistMutationTests.AssertClean(solution);
        MnistMutationTests.AssertClean(exercise);
    }
}
