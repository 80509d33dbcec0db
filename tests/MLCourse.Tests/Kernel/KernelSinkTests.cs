using System.Text.Json.Nodes;
using MLCourse.Kernel;
using MLCourse.Notebooks;

namespace MLCourse.Tests.Kernel;

public sealed class KernelSinkTests
{
    [Fact]
    public async Task Output_of_a_background_task_after_its_cell_ended_is_sent_and_never_throws_into_the_task()
    {
        using var session = new ScriptSession();
        var published = new List<(string Type, JsonObject Content)>();
        void Publish(string type, JsonObject content) { lock (published) published.Add((type, content)); }
        var plotly = new PlotlyEmbedding(PlotlyMode.Native);

        using (var first = new KernelSink(Publish, plotly, silent: false, executionCount: 1))
        {
            var started = await session.ExecuteAsync(
                "var gate = new TaskCompletionSource();\n"
                + "var late = Task.Run(async () => { await gate.Task; for (int i = 0; i < 3; i++) Console.WriteLine($\"late {i}\"); });", first);
            Assert.Equal(CellStatus.Ok, started.Status);
        }   // the kernel disposes a cell's sink when the cell ends

        var second = new KernelSink((_, _) => { }, plotly, silent: false, executionCount: 2);
        var result = await session.ExecuteAsync("gate.SetResult();\nawait late;", second);
        Assert.True(result.Status == CellStatus.Ok, result.Error?.Value);
        string text;
        lock (published) text = string.Concat(published.Where(p => p.Type == "stream").Select(p => p.Content["text"]!.GetValue<string>()));
        Assert.Equal("late 0\nlate 1\nlate 2\n", text.Replace("\r\n", "\n"));
    }
}
