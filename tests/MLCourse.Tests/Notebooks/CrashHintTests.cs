using System.Text;
using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

public class CrashHintTests
{
    [Fact]
    public void Names_the_error_of_an_uncaught_libtorch_exception_not_the_last_frame_of_its_trace()
    {
        var stderr = new StringBuilder("terminate called after throwing an instance of 'c10::Error'\n"
                                       + "  what():  mat1 and mat2 shapes cannot be multiplied (5x4 and 3x4)\n"
                                       + "Exception raised from meta at /pytorch/aten/src/ATen/native/LinearAlgebra.cpp:204 (most recent call first):\n");
        for (int i = 0; i < 40; i++) stderr.Append($"frame #{i}: <unknown function> + 0x{i:x} (0x7f00 in libtorch_cpu.so)\n");
        Assert.Equal(": libtorch stopped the process with an error TorchSharp did not catch: mat1 and mat2 shapes cannot be multiplied (5x4 and 3x4)",
                     CrashHint.Explain(stderr.ToString()));
    }

    [Fact]
    public void Says_stack_overflow_or_else_quotes_the_last_line()
    {
        Assert.Equal(": stack overflow, endless recursion?", CrashHint.Explain("Stack overflow.\n   at Submission#3.Down(Int32)\n"));
        Assert.Equal(": Killed by the sandbox", CrashHint.Explain("something\nKilled by the sandbox\n\n"));
        Assert.Equal("", CrashHint.Explain("  \n"));
    }

    [Fact]
    public void Keeps_the_end_of_a_long_standard_error()
    {
        var tail = new StringBuilder();
        var chunk = new string('x', 4000).ToCharArray();
        for (int i = 0; i < 30; i++) CrashHint.Append(tail, chunk, chunk.Length);
        var last = "  what():  the last error\n".ToCharArray();
        CrashHint.Append(tail, last, last.Length);
        Assert.InRange(tail.Length, CrashHint.KeptCharacters, 2 * CrashHint.KeptCharacters);
        Assert.EndsWith("the last error\n", tail.ToString());
    }
}
