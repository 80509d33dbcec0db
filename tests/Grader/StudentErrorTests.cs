using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

/// <summary>Exceptions in the student's code, in the student's terms (issue 21): which cell, which line, which function, a hint.</summary>
public sealed class StudentErrorTests
{
    [Fact]
    public void Cells_are_named_by_question_id_or_position_among_code_cells_never_by_a_count_with_markdown()
    {
        var notebook = Notebook.Load(GraderFixture.SolutionPath);
        int graded = notebook.Cells.FindIndex(c => c.Source.Contains("class Mlp", StringComparison.Ordinal)) + 1;
        int loader = notebook.Cells.FindIndex(c => c.Kind == CellKind.Code && c.Source.Contains("Mnist.Load()", StringComparison.Ordinal)) + 1;
        int codeBefore = notebook.Cells.Take(graded).Count(c => c.Kind == CellKind.Code);
        Assert.NotEqual(graded, codeBefore);   // markdown cells come before it: the two counts differ
        Assert.Equal($"the cell of hw-mnist-mlp.q1, code cell {codeBefore}", StudentCode.CellName(notebook, graded));
        Assert.Equal("code cell 2 (`using MLCourse.Data;`)", StudentCode.CellName(notebook, loader));
    }

    [Fact]
    public void A_traceback_is_attributed_to_the_innermost_function_in_the_notebook()
    {
        // As ScriptSession writes a failing cell's trace: libtorch, then forward (cell 8), TrainEpoch (cell 15), the cell itself (17).
        string[] trace =
        [
            "System.Runtime.InteropServices.ExternalException: mat1 and mat2 shapes cannot be multiplied (224x28 and 784x49)",
            "   at TorchSharp.torch.CheckForErrors() in Torch.cs:line 123",
            "   at Mlp.forward(Tensor) in hw-mnist-mlp.ipynb cell 8:line 20",
            "   at TrainEpoch(Module`2, Optimizer, TensorLoader) in hw-mnist-mlp.ipynb cell 15:line 9",
            "   at <cell> in cell 17, line 14",
        ];
        Assert.Equal(new CodePlace("Mlp.forward", 8, 20), StudentCode.Locate(trace));
        Assert.Equal(new CodePlace("<cell>", 17, 14), StudentCode.Locate(trace[4..]));
        Assert.Null(StudentCode.Locate(trace[..2]));
    }

    [Fact]
    public void Explain_quotes_the_line_and_hints_at_the_layer_or_the_call()
    {
        var notebook = Notebook.Load(GraderFixture.SolutionPath);
        int cell = notebook.Cells.FindIndex(c => c.Source.Contains("class Mlp", StringComparison.Ordinal)) + 1;
        int line = notebook.Cells[cell - 1].Source.Split('\n').ToList().FindIndex(l => l.Contains("relu(fc1.call(x))", StringComparison.Ordinal)) + 1;
        string shape = StudentCode.Explain("ExternalException",
            "mat1 and mat2 shapes cannot be multiplied (224x28 and 784x49)\nException raised from meta at /pytorch/aten/src/ATen/native/LinearAlgebra.cpp:191",
            new CodePlace("Mlp.forward", cell, line), notebook);
        Assert.StartsWith("your code threw ExternalException in Mlp.forward (the cell of hw-mnist-mlp.q1, code cell ", shape);
        Assert.Contains($"line {line}: `x = nn.functional.relu(fc1.call(x));`:", shape);
        Assert.Contains("the layer fc1 expects 784 input features per row but received rows of 28", shape);
        Assert.Contains("x.flatten(1)", shape);
        Assert.DoesNotContain("LinearAlgebra.cpp", shape);
        Assert.DoesNotContain("// (B, hidden1)", shape);

        string dtype = StudentCode.Hint("ArgumentException", "Int32 is not compatible with Int64", "return correct.sum().item<int>() / 2.0;");
        Assert.Contains("the call .item<int>()", dtype);
        Assert.Contains(".item<long>()", dtype);
        Assert.Contains("dimension 1", StudentCode.Hint("ExternalException",
            "The size of tensor a (10) must match the size of tensor b (64) at non-singleton dimension 1", "var ok = logits.eq(labels);"));
        Assert.Equal("", StudentCode.Hint("InvalidOperationException", "something else", null));
    }
}

public sealed class StudentErrorGradingTests
{
    [Fact]
    public async Task A_missing_flatten_and_a_wrong_item_type_are_reported_in_the_students_terms()
    {
        var notebook = GraderFixture.FastSolution();
        GraderFixture.Replace(notebook, "        x = x.flatten(1);                        // (B, inputs)\n", "");
        GraderFixture.Replace(notebook, "return correct.to_type(ScalarType.Float64).mean().item<double>();",
                              "return correct.sum().item<int>() / (double)labels.shape[0];");
        var report = await GraderFixture.GradeAsync(GraderFixture.Save(notebook));
        string table = report.ToTable(), markdown = Feedback.ToMarkdown(report);

        // The shape error: in forward (q1's cell), the line, the layer; also where a later cell (training) or the q4
        // check called forward, never the line of the caller.
        string q1 = GraderFixture.Feedback(GraderFixture.Question(report, "q1"));
        Assert.Contains("your code threw ExternalException in Mlp.forward (the cell of hw-mnist-mlp.q1, code cell 4), line ", q1);
        Assert.Contains("`x = nn.functional.relu(fc1.call(x));`", q1);
        Assert.Contains("the layer fc1 expects 784 input features", q1);
        string q4 = GraderFixture.Feedback(GraderFixture.Question(report, "q4"));
        Assert.Contains("the cell of hw-mnist-mlp.q4, code cell 9 failed: your code threw ExternalException in Mlp.forward", q4);
        Assert.DoesNotContain("TrainEpoch (", q4);

        // The dtype error: in Accuracy, the call named.
        string q2 = GraderFixture.Feedback(GraderFixture.Question(report, "q2"));
        Assert.Contains("your code threw ArgumentException in Accuracy (the cell of hw-mnist-mlp.q2, code cell 6), line ", q2);
        Assert.Contains("the call .item<int>()", q2);

        foreach (string text in new[] { table, markdown, report.ToGradescopeJson() })
        {
            Assert.DoesNotContain("frame #", text);
            Assert.DoesNotContain("Exception raised from", text);
            Assert.DoesNotContain(Path.GetTempPath(), text);
            Assert.DoesNotContain("sandbox:", text);
        }
    }
}
