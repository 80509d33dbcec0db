using System.Text;
using System.Text.Json.Nodes;

namespace MLCourse.Notebooks;

/// <summary>Loads notebooks by extension: Jupyter's .ipynb, or Polyglot's plain-text .dib.</summary>
public static class NotebookFiles
{
    /// <summary>Reads <paramref name="path"/> (.ipynb or .dib).</summary>
    public static Notebook Load(string path)
    {
        if (!path.EndsWith(".dib", StringComparison.OrdinalIgnoreCase)) return Notebook.Load(path);
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookFormatException($"{path}: cannot read the file ({e.Message}).", e);
        }
        var notebook = ParseDib(text);
        notebook.Path = Path.GetFullPath(path);
        return notebook;
    }

    /// <summary>
    /// Parses the .dib format: sections that start with a <c>#!language</c> line (<c>#!csharp</c>,
    /// <c>#!markdown</c>, …); a leading <c>#!meta</c> section holds JSON metadata.
    /// </summary>
    public static Notebook ParseDib(string text)
    {
        var notebook = new Notebook();
        string? language = null;
        var body = new StringBuilder();
        void Flush()
        {
            if (language is null) return;
            string source = body.ToString().Trim('\n');
            body.Clear();
            if (language == "meta") return;
            if (language is "markdown" or "md")
            {
                notebook.Cells.Add(new Cell(CellKind.Markdown, source));
                return;
            }
            var metadata = Notebook.CSharpCellMetadata();
            if (language is not ("csharp" or "c#"))
            {
                metadata["dotnet_interactive"]!["language"] = language;
                metadata["polyglot_notebook"]!["kernelName"] = language;
                source = $"#!{language}\n{source}";
            }
            notebook.Cells.Add(new Cell(CellKind.Code, source, metadata));
        }
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line.StartsWith("#!", StringComparison.Ordinal) && line.Length > 2 && !line.Contains(' ')
                && (Magics.Languages.Contains(line[2..]) || line[2..] == "meta"))
            {
                Flush();
                language = line[2..];
                continue;
            }
            language ??= "csharp";
            body.Append(raw).Append('\n');
        }
        Flush();
        return notebook;
    }

    /// <summary>Writes a notebook as .dib text (outputs are not kept: .dib has no place for them).</summary>
    public static string ToDib(Notebook notebook)
    {
        var sb = new StringBuilder();
        sb.Append("#!meta\n\n").Append(new JsonObject { ["kernelInfo"] = notebook.Metadata["polyglot_notebook"]?["kernelInfo"]?.DeepClone() }.ToJsonString()).Append("\n\n");
        foreach (var cell in notebook.Cells)
        {
            string language = cell.Kind == CellKind.Markdown ? "markdown" : cell.DeclaredLanguage ?? "csharp";
            string source = cell.Source;
            if (source.StartsWith($"#!{language}\n", StringComparison.Ordinal)) source = source[(language.Length + 3)..];
            sb.Append("#!").Append(language).Append("\n\n").Append(source.TrimEnd('\n')).Append("\n\n");
        }
        return sb.ToString();
    }
}
