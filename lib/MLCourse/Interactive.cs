namespace MLCourse;

/// <summary>A displayed output that can be replaced in place (a progress bar, a live chart).</summary>
public interface IDisplayHandle
{
    /// <summary>Replaces the displayed value.</summary>
    void Update(object? value);
}

/// <summary>
/// What a notebook front end offers the library: showing values and asking long loops to stop.
/// The notebook engine implements it; the library never knows which engine (DESIGN.md: arrows point one way).
/// </summary>
public interface INotebookHost
{
    /// <summary>Shows a value as a cell output and returns a handle to update it.</summary>
    IDisplayHandle Display(object? value);

    /// <summary>Cancelled when the user interrupts the running cell.</summary>
    CancellationToken Interrupted { get; }
}

/// <summary>
/// The notebook host the library talks to, if any. In a console program it is null and the library
/// writes to the console instead. Introduced in chapter 00.
/// </summary>
public static class Interactive
{
    private static readonly AsyncLocal<INotebookHost?> current = new();
    private static INotebookHost? global;

    /// <summary>The host of the running cell, or null outside a notebook.</summary>
    public static INotebookHost? Host => current.Value ?? global;

    /// <summary>Installs a host for this execution context (and, when <paramref name="global"/>, for the process).</summary>
    public static void SetHost(INotebookHost? host, bool global = false)
    {
        current.Value = host;
        if (global) Interactive.global = host;
    }

    /// <summary>Throws <see cref="OperationCanceledException"/> when the user interrupted the cell.</summary>
    public static void ThrowIfInterrupted() => Host?.Interrupted.ThrowIfCancellationRequested();

    /// <summary>True when running inside a notebook engine.</summary>
    public static bool InNotebook => Host is not null;
}
