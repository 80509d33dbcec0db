using System.CommandLine;
using MLCourse.Cli;

// Keep freed tensor memory for reuse instead of unmapping it every batch (see MLCourse.Malloc, docs/performance.md).
MLCourse.Malloc.Tune();
// On AMD processors, OpenBLAS instead of libtorch's bundled MKL for matrix products when installed (MLCourse.NativeBlas).
MLCourse.NativeBlas.Choose();

var root = new RootCommand("mlcourse: the C# deep-learning workbook's command line (run, check, …).")
{
    RunCommand.Create(),
    RunCommand.CreateWorker(),
    CheckCommand.Create(),
    ConvertCommand.Create(),
    DataCommand.Create(),
    KernelCommand.Create(),
    ReleaseCommand.Create(),
    GradeCommand.Create(),
    GradeCommand.CreateWorker(),
    AutograderCommand.Create(),
    BenchCommand.Create(),
    BookCommand.Create(),
};
int code = await root.Parse(args).InvokeAsync();
// A cell stopped by its timeout may still be running on a background thread: leave without waiting for it.
MLCourse.Notebooks.ProcessExit.Now(code);
