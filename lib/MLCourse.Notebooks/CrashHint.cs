using System.Text;

namespace MLCourse.Notebooks;

/// <summary>
/// What a dead worker process's standard error says about why it died, in one line for the student: a stack
/// overflow, an error libtorch threw that never reached .NET, or else the last line it wrote. Used by the front ends
/// that run notebooks in worker processes: the runner (<c>mlcourse run</c>, the book's build) and the grader.
/// </summary>
public static class CrashHint
{
    /// <summary>How much of a worker's standard error to keep (its end): enough for a libtorch error and its stack trace.</summary>
    public const int KeptCharacters = 16384;

    /// <summary>Appends <paramref name="count"/> characters to <paramref name="tail"/>, keeping only its last <see cref="KeptCharacters"/>.</summary>
    public static void Append(StringBuilder tail, char[] buffer, int count)
    {
        tail.Append(buffer, 0, count);
        if (tail.Length > 2 * KeptCharacters) tail.Remove(0, tail.Length - KeptCharacters);
    }

    /// <summary>
    /// ": …" to append to "the process died (signal 6 …)", or "" when standard error said nothing. Some TorchSharp
    /// 0.107 functions do not catch libtorch's errors (<c>matmul</c> with shapes that do not fit, for one): the C++
    /// exception then ends the process with "terminate called after throwing an instance of 'c10::Error'" and the
    /// error's text on the next line (<c>what():</c>), followed by libtorch's stack trace. That text is what the
    /// student needs, not the trace's last frame.
    /// </summary>
    public static string Explain(string stderr)
    {
        string tail = stderr.Trim();
        if (tail.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase)) return ": stack overflow, endless recursion?";
        int what = tail.LastIndexOf("what():", StringComparison.Ordinal);
        if (what >= 0)
        {
            string message = tail[(what + "what():".Length)..].Split('\n')[0].Trim();
            if (message.Length > 0)
                return $": libtorch stopped the process with an error TorchSharp did not catch: {Shorten(message)}";
        }
        var last = tail.Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim();
        return string.IsNullOrEmpty(last) ? "" : $": {Shorten(last)}";
    }

    private static string Shorten(string line) => line.Length > 300 ? line[..300] + "…" : line;
}
