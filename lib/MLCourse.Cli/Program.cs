using System.CommandLine;
using MLCourse.Cli;

// Keep freed tensor memory for reuse instead of unmapping it every batch (see MLCourse.Malloc, docs/performance.md).
MLCourse.Malloc.Tune();
// Opt-in: OpenBLAS instead of libtorch's bundled MKL for matrix products (MLCOURSE_BLAS=openblas; see MLCourse.NativeBlas).
MLCourse.NativeBlas.UseRequested();

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
