namespace MLCourse.Data;

/// <summary>
/// A data set could not be found, read or trusted: a missing set, a truncated or corrupt file, a wrong
/// magic number, a checksum mismatch, a CSV without an expected column. The message names the file and
/// what was expected, and for a missing set the exact <c>mlcourse data fetch NAME</c> command.
/// Introduced in chapter 00 (setup: getting the data).
/// </summary>
public sealed class DataSetException : Exception
{
    /// <summary>Creates the exception with a message that names the file and what was expected.</summary>
    public DataSetException(string message, string? path = null, Exception? inner = null) : base(message, inner)
    {
        Path = path;
    }

    /// <summary>The file or folder at fault, when there is one.</summary>
    public string? Path { get; }
}
