using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Grading;

/// <summary>
/// Marks a check class: the question it grades and how many points it is worth. The grader's own process reads
/// this attribute from the check file's syntax (it never asks the student's process), so a submission cannot
/// change the points a question is worth.
/// </summary>
/// <param name="id">The question id, e.g. <c>hw-mnist-mlp.q1</c>; the graded cell with this id (or a prefix of it)
/// is the cell the question belongs to.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class QuestionAttribute(string id) : Attribute
{
    /// <summary>The question id.</summary>
    public string Id { get; } = id;

    /// <summary>The most the question can earn.</summary>
    public double Points { get; init; }
}

/// <summary>
/// One question's checks. A check file (<c>tests/Grader/checks/HOMEWORK/*.csx</c>) declares a class deriving from
/// this one with a <see cref="QuestionAttribute"/>; the grader compiles it as a continuation of the student's
/// session, so <see cref="Run"/> reaches the student's variables, functions and types by name, typed.
/// </summary>
public abstract class QuestionCheck
{
    /// <summary>Awards the question's points part by part with <c>grade.Part(…)</c>.</summary>
    public abstract void Run(Grade grade);
}

/// <summary>Thrown by <see cref="Expect"/> when a check fails; its message is the student's feedback.</summary>
public sealed class CheckFailedException(string message) : Exception(message);

/// <summary>The outcome of one part of a question.</summary>
/// <param name="Name">What the part checks, e.g. <c>output shape</c>.</param>
/// <param name="Points">Points the part is worth.</param>
/// <param name="Earned">Points earned.</param>
/// <param name="Feedback">What was wrong and what was expected, or <c>ok</c>.</param>
/// <param name="NotAttempted">True when the student's code still throws the released stub's NotImplementedException.</param>
public sealed record PartResult(string Name, double Points, double Earned, string Feedback, bool NotAttempted);

/// <summary>
/// Collects the parts of one question while its check runs (in the worker process). Every part runs even when
/// an earlier one failed, so partial credit is possible.
/// </summary>
public sealed class Grade
{
    private readonly List<PartResult> parts = [];

    /// <summary>Creates the grade of one question.</summary>
    /// <param name="question">The question id.</param>
    /// <param name="points">The question's points.</param>
    /// <param name="quick">Whether the grader runs in quick mode (set by the grader, not by the notebook).</param>
    /// <param name="seed">Seed of <see cref="Random"/>: fresh for every grading run, so hard-coded answers fail.</param>
    public Grade(string question, double points, bool quick, int seed)
    {
        Question = question;
        Points = points;
        Quick = quick;
        Seed = seed;
        Random = new Random(seed);
    }

    /// <summary>The question id.</summary>
    public string Question { get; }

    /// <summary>The question's points.</summary>
    public double Points { get; }

    /// <summary>True in quick mode (<c>mlcourse grade --quick</c>): checks use their stated lower bars.</summary>
    public bool Quick { get; }

    /// <summary>The seed of this run's random inputs.</summary>
    public int Seed { get; }

    /// <summary>Draws this run's random inputs (sizes, seeds for <c>torch.manual_seed</c>).</summary>
    public Random Random { get; }

    /// <summary>The parts so far.</summary>
    public IReadOnlyList<PartResult> Parts => parts;

    /// <summary>Points earned so far.</summary>
    public double Earned => parts.Sum(p => p.Earned);

    /// <summary>
    /// Runs one part: full <paramref name="points"/> when <paramref name="check"/> returns, none when it throws.
    /// A <see cref="CheckFailedException"/>'s message becomes the feedback; the released stub's
    /// <see cref="NotImplementedException"/> means "not attempted"; any other exception is reported as the
    /// student's code failing.
    /// </summary>
    public void Part(string name, double points, Action check) =>
        Part(name, points, () =>
        {
            check();
            return (1.0, "ok");
        });

    /// <summary>
    /// Runs one part that decides its own share: <paramref name="check"/> returns the fraction of
    /// <paramref name="points"/> earned (clamped to 0..1) and the feedback, e.g. an accuracy against two bars.
    /// </summary>
    public void Part(string name, double points, Func<(double Fraction, string Feedback)> check)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            var (fraction, feedback) = check();
            if (double.IsNaN(fraction)) fraction = 0;
            fraction = Math.Clamp(fraction, 0, 1);
            parts.Add(new PartResult(name, points, Math.Round(points * fraction, 4), feedback, false));
        }
        catch (Exception e)
        {
            parts.Add(Failed(name, points, e));
        }
    }

    private static PartResult Failed(string name, double points, Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        return e switch
        {
            CheckFailedException f => new PartResult(name, points, 0, f.Message, false),
            NotImplementedException n => new PartResult(name, points, 0, $"not attempted ({n.Message})", true),
            // Where in the student's code (the innermost frame in a cell: the function that caused it), that line, a hint.
            _ => new PartResult(name, points, 0, StudentCode.Explain(e), false),
        };
    }
}

/// <summary>Assertions for checks; each failure message says what was wrong and what was expected.</summary>
public static class Expect
{
    /// <summary>Fails with <paramref name="message"/>.</summary>
    public static CheckFailedException Fail(string message) => throw new CheckFailedException(message);

    /// <summary>Fails with <paramref name="message"/> unless <paramref name="condition"/> holds.</summary>
    public static void That(bool condition, string message)
    {
        if (!condition) throw new CheckFailedException(message);
    }

    /// <summary>Fails unless <paramref name="actual"/> has exactly the shape <paramref name="expected"/>.</summary>
    public static void Shape(Tensor actual, long[] expected, string what)
    {
        if (!actual.shape.SequenceEqual(expected))
            throw new CheckFailedException($"shape mismatch: {what} has shape {Format(actual.shape)}, expected {Format(expected)}.");
    }

    /// <summary>
    /// Fails unless <paramref name="actual"/> matches <paramref name="expected"/> element by element:
    /// |a − e| ≤ atol + rtol·|e| (the rule of <c>torch.allclose</c>). The message names the first wrong index.
    /// </summary>
    public static void Close(Tensor actual, Tensor expected, string what, double atol = 1e-5, double rtol = 1e-4, string? hint = null)
    {
        Shape(actual, expected.shape, what);
        using var scope = torch.NewDisposeScope();
        var a = actual.detach().to(CPU).to_type(ScalarType.Float64);
        var e = expected.detach().to(CPU).to_type(ScalarType.Float64);
        var bad = (a - e).abs().gt(atol + rtol * e.abs()).logical_or(a.isnan());
        long wrong = bad.sum().item<long>();
        if (wrong == 0) return;
        long flat = bad.flatten().to_type(ScalarType.Int32).argmax().item<long>();
        long[] index = Unravel(flat, actual.shape);
        double got = a.flatten()[flat].item<double>(), want = e.flatten()[flat].item<double>();
        throw new CheckFailedException(
            $"wrong value: {what}{Format(index)} is {got:G6}, expected {want:G6} (tolerance {atol:G2} + {rtol:G2}·|expected|; "
            + $"{wrong} of {a.numel()} values differ).{(hint is null ? "" : " " + hint)}");
    }

    /// <summary>Fails unless |<paramref name="actual"/> − <paramref name="expected"/>| ≤ <paramref name="tolerance"/>.</summary>
    public static void Close(double actual, double expected, string what, double tolerance, string? hint = null)
    {
        if (!(Math.Abs(actual - expected) <= tolerance))
            throw new CheckFailedException($"wrong value: {what} is {actual:G6}, expected {expected:G6} (± {tolerance:G2}).{(hint is null ? "" : " " + hint)}");
    }

    /// <summary><c>[2, 10]</c>.</summary>
    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    private static long[] Unravel(long flat, long[] shape)
    {
        var index = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return index;
    }
}
