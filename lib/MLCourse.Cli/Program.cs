using System.CommandLine;
using MLCourse.Cli;

var root = new RootCommand("mlcourse: the C# deep-learning workbook's command line (run, check, …).")
{
    RunCommand.Create(),
    CheckCommand.Create(),
    ReleaseCommand.Create(),
    GradeCommand.Create(),
    GradeCommand.CreateWorker(),
};
int code = await root.Parse(args).InvokeAsync();
// A cell stopped by its timeout may still be spinning on a background thread: leave without waiting for it.
Console.Out.Flush();
Environment.Exit(code);
