using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace MLCourse.DotNetInteractive;

/// <summary>
/// The library's notebook host inside .NET Interactive: displays go to the running cell's invocation context (so a
/// progress bar is one output updated in place), and a cell counts as interrupted when .NET Interactive cancels its
/// command (Polyglot Notebooks' Stop button sends that Cancel command). The library's loops poll it at every step.
/// </summary>
internal sealed class DotNetInteractiveHost : INotebookHost
{
    public IDisplayHandle Display(object? value)
    {
        if (KernelInvocationContext.Current is not { } context)
        {
            Console.WriteLine(value);
            return new ConsoleHandle();
        }
        return new Handle(context.Display(value));
    }

    public CancellationToken Interrupted => KernelInvocationContext.Current?.CancellationToken ?? CancellationToken.None;

    private sealed class Handle(DisplayedValue shown) : IDisplayHandle
    {
        public void Update(object? value) => shown.Update(value);
    }

    private sealed class ConsoleHandle : IDisplayHandle
    {
        public void Update(object? value) => Console.WriteLine(value);
    }
}
