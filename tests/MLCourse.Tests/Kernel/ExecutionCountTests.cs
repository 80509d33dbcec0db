using MLCourse.Notebooks;

namespace MLCourse.Tests.Kernel;

/// <summary>
/// The kernel's one execution counter is its session's: an execution that stores no history (Jupyter's silent or
/// store_history=false) leaves it as it is and reports its current value (protocol_test.py checks the same on the wire).
/// </summary>
public sealed class ExecutionCountTests
{
    [Fact]
    public async Task Executions_that_store_no_history_do_not_move_the_sessions_count()
    {
        using var session = new ScriptSession();
        var sink = new OutputCollector();
        Assert.Equal(1, (await session.ExecuteAsync("1", sink)).ExecutionCount);
        var silent = await session.ExecuteAsync("2", sink, storeHistory: false);
        Assert.Equal(1, silent.ExecutionCount);
        Assert.Equal(1, session.ExecutionCount);
        var failed = await session.ExecuteAsync("throw new Exception()", sink, storeHistory: false);
        Assert.Equal(CellStatus.Error, failed.Status);
        Assert.Equal(1, session.ExecutionCount);
        var next = await session.ExecuteAsync("3", sink);
        Assert.Equal(2, next.ExecutionCount);
        Assert.Equal(2, session.ExecutionCount);
        // The results of "1", the silent "2" and "3": the silent one carries the count current when it ran.
        Assert.Equal([1, 1, 2], sink.Outputs.OfType<ResultOutput>().Select(r => r.ExecutionCount));
    }
}
