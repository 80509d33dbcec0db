using System.CommandLine;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary><c>mlcourse convert FILE --to ipynb|dib [--output PATH]</c>: between Jupyter's and Polyglot's formats.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("file") { Description = "A .ipynb or .dib notebook." };
        var to = new Option<string>("--to") { Description = "Target format: ipynb or dib.", Required = true };
        to.AcceptOnlyFromAmong("ipynb", "dib");
        var output = new Option<string?>("--output", "-o") { Description = "Where to write (default: same name, new extension)." };
        var command = new Command("convert", "Convert a notebook between .ipynb and .dib (outputs are dropped in .dib).") { input, to, output };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(input)!;
            string format = parse.GetValue(to)!;
            Notebook notebook;
            try { notebook = NotebookFiles.Load(path); }
            catch (NotebookFormatException e)
            {
                Console.Error.WriteLine($"mlcourse convert: {e.Message}");
                return 2;
            }
            string target = parse.GetValue(output) ?? Path.ChangeExtension(path, "." + format);
            if (format == "dib") File.WriteAllText(target, NotebookFiles.ToDib(notebook));
            else notebook.Save(target);
            Console.WriteLine($"wrote {target} ({notebook.Cells.Count} cells)");
            return 0;
        });
        return command;
    }
}
