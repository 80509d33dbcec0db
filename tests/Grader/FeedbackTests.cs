using System.Text.Json;
using MLCourse.Grading;

namespace MLCourse.Grader.Tests;

/// <summary>What a student reads: no native frames or grading-machine paths, wrapped lines, expected vs got (no worker needed).</summary>
public sealed class FeedbackTests
{
    // What a TorchSharp shape error looked like in a report (issue 21): the message, libtorch's frames, a path.
    private const string NativeError =
        "your code threw ExternalException: mat1 and mat2 shapes cannot be multiplied (224x28 and 784x49)\n"
        + "Exception raised from meta at /pytorch/aten/src/ATen/native/LinearAlgebra.cpp:191 (most recent call first):\n"
        + "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9a (0x7f3c1a2b in /home/grader/.nuget/packages/libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native/libc10.so)\n"
        + "frame #1: c10::detail::torchCheckFail(char const*, char const*, unsigned int, std::string const&) + 0x6b (0x7f3c1a2c in /home/grader/libc10.so)\n"
        + "   at TorchSharp.torch.CheckForErrors() in /_/src/TorchSharp/Torch.cs:line 123\n"
        + "   at TorchSharp.Modules.Linear.forward(Tensor tensor)";

    private static GradeReport Report(params QuestionResult[] questions) =>
        new("/srv/grading/submissions/alice/hw-mnist-mlp.ipynb", questions, new Dictionary<int, CellEvent>(),
            ["cell 9 crashed the worker process (exit code 134: at System.Threading.Thread.StartCallback()); it was skipped and the notebook run again without it."],
            TimeSpan.FromSeconds(3), 2);

    private static readonly QuestionResult Shape = new("hw-mnist-mlp.q1", 3, 1,
        ["✓ layers and their shapes (1/1): ok",
         "✗ output shape (0/1): shape mismatch: net.call(x) has shape [2, 5], expected [2, 10].",
         "✗ forward pass: ReLU between layers, none after fc3 (0/1): " + NativeError], false);

    private static readonly QuestionResult Value = new("hw-mnist-mlp.q2", 2, 0,
        ["✗ random labels (0/2): wrong value: Accuracy(logits, labels) is 0.0707071, expected 0.07 (± 1E-09). Off by one sample: divide by the number of rows."], false);

    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    [Fact]
    public void Clean_drops_native_and_managed_frames_and_reduces_paths_to_file_names()
    {
        string clean = Feedback.Clean(NativeError);
        Assert.Equal("your code threw ExternalException: mat1 and mat2 shapes cannot be multiplied (224x28 and 784x49)", clean);
        Assert.Equal("cell 9 crashed the worker process (exit code 134); it was skipped.",
                     Feedback.Clean("cell 9 crashed the worker process (exit code 134: at System.Threading.Thread.StartCallback()); it was skipped."));
        Assert.Equal("hw.ipynb: not valid notebook JSON (line 1, byte 0).", Feedback.Clean("/srv/grading/alice/hw.ipynb: not valid notebook JSON (line 1, byte 0)."));
        Assert.Equal(@"see hw.ipynb", Feedback.Clean(@"see C:\Users\grader\hw.ipynb"));
        // Prose and numbers stay as they are.
        foreach (string keep in new[] { "✓ output shape (1/1): ok", "look at x.flatten(1) in forward", "accuracy 91.98 % (9198 of 10000), required ≥ 85.0 %", "see https://pytorch.org/docs/stable/nn.html" })
            Assert.Equal(keep, Feedback.Clean(keep));
    }

    [Fact]
    public void Every_student_facing_form_is_clean_and_says_expected_and_got()
    {
        var report = Report(Shape, Value);
        string markdown = Feedback.ToMarkdown(report, "alice"), html = Feedback.ToHtml(report, "alice");
        string gradescope = report.ToGradescopeJson(), classroom = report.ToClassroomJson(), table = report.ToTable(100);
        foreach (string text in new[] { markdown, html, gradescope, classroom, table })
        {
            Assert.DoesNotContain("frame #", text);
            Assert.DoesNotContain("/srv/grading", text);
            Assert.DoesNotContain("/home/grader", text);
            Assert.DoesNotContain("LinearAlgebra.cpp", text);
            Assert.DoesNotContain("StartCallback", text);
            Assert.Contains("mat1 and mat2 shapes cannot be multiplied", Flat(text));   // the table wraps it
        }
        // Expected vs got, split out of the checks' messages.
        Assert.Contains("  - expected: `shape [2, 10]`", markdown);
        Assert.Contains("  - got: `net.call(x) has shape [2, 5]`", markdown);
        Assert.Contains("  - expected: `0.07`", markdown);
        Assert.Contains("  - got: `Accuracy(logits, labels) = 0.0707071`", markdown);
        Assert.Contains("<div class=\"pair\">expected: shape [2, 10]</div>", html);
        Assert.Contains("## hw-mnist-mlp.q1: 1 of 3", markdown);
        Assert.Contains("| hw-mnist-mlp.q2 | 2 | 0 |", markdown);

        // Gradescope shows each question's Markdown: the same text as the .md file.
        using var json = JsonDocument.Parse(gradescope);
        var q1 = json.RootElement.GetProperty("tests")[0];
        Assert.Equal("failed", q1.GetProperty("status").GetString());
        Assert.Equal("md", q1.GetProperty("output_format").GetString());
        Assert.Contains(q1.GetProperty("output").GetString()!, markdown);
        Assert.Equal(1, json.RootElement.GetProperty("score").GetDouble());

        using var gh = JsonDocument.Parse(classroom);
        Assert.Equal(5, gh.RootElement.GetProperty("max_score").GetDouble());
        Assert.Equal("fail", gh.RootElement.GetProperty("status").GetString());
        Assert.Equal(1, gh.RootElement.GetProperty("tests").EnumerateArray().Sum(t => t.GetProperty("score").GetDouble()));
    }

    [Fact]
    public void The_console_table_wraps_long_feedback_and_indents_it_under_the_feedback_column()
    {
        string table = Report(Shape, Value).ToTable(90);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.True(l.Length <= 90, $"{l.Length} > 90: {l}"));
        int column = "hw-mnist-mlp.q1".Length + 18;
        // The long hint of q2 continues on indented lines (two spaces deeper than the part's first line).
        int first = Array.FindIndex(lines, l => l.Contains("✗ random labels"));
        Assert.True(first >= 0, table);
        Assert.StartsWith(new string(' ', column + 2), lines[first + 1]);
        Assert.Contains("Off by one sample", Flat(string.Join(" ", lines.Skip(first).Take(4))));
    }
}
