using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLCourse.Notebooks;

/// <summary>Kinds of notebook cells.</summary>
public enum CellKind
{
    /// <summary>Code to execute.</summary>
    Code,
    /// <summary>Markdown prose.</summary>
    Markdown,
    /// <summary>Raw text, passed through.</summary>
    Raw,
}

/// <summary>One cell of a notebook.</summary>
public sealed class Cell
{
    /// <summary>Creates a cell.</summary>
    public Cell(CellKind kind, string source, JsonObject? metadata = null)
    {
        Kind = kind;
        Source = source;
        Metadata = metadata ?? new JsonObject();
    }

    /// <summary>Code, markdown or raw.</summary>
    public CellKind Kind { get; }

    /// <summary>The cell's text.</summary>
    public string Source { get; set; }

    /// <summary>The cell's metadata, kept as JSON so unknown fields survive a round trip.</summary>
    public JsonObject Metadata { get; }

    /// <summary>nbformat 4.5 cell id, if the file had one.</summary>
    public string? Id { get; set; }

    /// <summary>Outputs of the last execution.</summary>
    public List<CellOutput> Outputs { get; } = [];

    /// <summary>Execution count of the last execution, or null.</summary>
    public int? ExecutionCount { get; set; }

    /// <summary>
    /// The cell's language as Polyglot records it (<c>polyglot_notebook.kernelName</c> or
    /// <c>dotnet_interactive.language</c>), or a leading <c>#!language</c> line; null when the cell says nothing.
    /// </summary>
    public string? DeclaredLanguage =>
        (Metadata["polyglot_notebook"]?["kernelName"] ?? Metadata["dotnet_interactive"]?["language"])?.GetValue<string>();
}

/// <summary>Raised for a notebook file that cannot be read: the message names the file and what is wrong.</summary>
public sealed class NotebookFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// An nbformat 4 notebook (.ipynb): cells, metadata, outputs. Unknown fields of the notebook and cell metadata
/// survive a load/save round trip.
/// </summary>
public sealed class Notebook
{
    /// <summary>Creates an empty notebook with the workbook's Polyglot-compatible C# metadata.</summary>
    public Notebook() : this(DefaultMetadata(), 4, 5) { }

    private Notebook(JsonObject metadata, int major, int minor)
    {
        Metadata = metadata;
        FormatMajor = major;
        FormatMinor = minor;
    }

    /// <summary>Notebook-level metadata.</summary>
    public JsonObject Metadata { get; }

    /// <summary>The cells in order.</summary>
    public List<Cell> Cells { get; } = [];

    /// <summary>nbformat major version.</summary>
    public int FormatMajor { get; }

    /// <summary>nbformat minor version.</summary>
    public int FormatMinor { get; }

    /// <summary>The path the notebook was loaded from, if any.</summary>
    public string? Path { get; set; }

    /// <summary>The default cell language: Polyglot's <c>defaultKernelName</c>, else <c>csharp</c>.</summary>
    public string DefaultLanguage =>
        Metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]?.GetValue<string>() ?? "csharp";

    /// <summary>The Polyglot-compatible C# metadata the workbook's notebooks carry (DESIGN.md).</summary>
    public static JsonObject DefaultMetadata() => new()
    {
        ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
        ["language_info"] = new JsonObject
        {
            ["file_extension"] = ".cs", ["mimetype"] = "text/x-csharp", ["name"] = "C#", ["pygments_lexer"] = "csharp",
        },
        ["polyglot_notebook"] = new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = "csharp",
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
            },
        },
    };

    /// <summary>The metadata a C# code cell carries for Polyglot.</summary>
    public static JsonObject CSharpCellMetadata() => new()
    {
        ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
    };

    /// <summary>Reads an .ipynb file; a malformed file raises <see cref="NotebookFormatException"/>.</summary>
    public static Notebook Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookFormatException($"{path}: cannot read the file ({e.Message}).", e);
        }
        var notebook = Parse(text, path);
        notebook.Path = System.IO.Path.GetFullPath(path);
        return notebook;
    }

    /// <summary>
    /// Parses .ipynb JSON; <paramref name="name"/> names the source in error messages. Anything that is not a notebook —
    /// invalid JSON, or valid JSON with a field of the wrong type (<c>"nbformat": "4"</c>, a source of numbers) — raises
    /// <see cref="NotebookFormatException"/>, never another exception.
    /// </summary>
    public static Notebook Parse(string json, string name = "notebook")
    {
        try { return ParseChecked(json, name); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or OverflowException)
        {
            throw new NotebookFormatException(
                $"{name}: not a valid notebook: a field has the wrong type ({FirstSentence(e.Message)}) Open it in a text editor or restore it from git.", e);
        }
    }

    private static Notebook ParseChecked(string json, string name)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw new NotebookFormatException(
                $"{name}: not valid notebook JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {FirstSentence(e.Message)} "
                + "Open it in a text editor or restore it from git.", e);
        }
        if (root is not JsonObject obj || obj["cells"] is not JsonArray cells)
            throw new NotebookFormatException($"{name}: not an nbformat 4 notebook (no \"cells\" array).");
        int major = obj["nbformat"]?.GetValue<int>() ?? 4;
        if (major != 4)
            throw new NotebookFormatException($"{name}: nbformat {major} is not supported; save it as nbformat 4 (Jupyter does this on save).");
        var metadata0 = obj["metadata"] as JsonObject ?? new JsonObject();
        obj.Remove("metadata");
        var notebook = new Notebook(metadata0, major, obj["nbformat_minor"]?.GetValue<int>() ?? 5);
        int index = 0;
        foreach (var node in cells)
        {
            index++;
            if (node is not JsonObject c)
                throw new NotebookFormatException($"{name}: cell {index} is not a JSON object.");
            string type = c["cell_type"]?.GetValue<string>() ?? "";
            var kind = type switch
            {
                "code" => CellKind.Code,
                "markdown" => CellKind.Markdown,
                "raw" => CellKind.Raw,
                _ => throw new NotebookFormatException($"{name}: cell {index} has an unknown cell_type '{type}'."),
            };
            var metadata = c["metadata"] as JsonObject;
            c.Remove("metadata");
            var cell = new Cell(kind, JoinText(c["source"]), metadata)
            {
                Id = c["id"]?.GetValue<string>(),
                ExecutionCount = c["execution_count"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null,
            };
            if (c["outputs"] is JsonArray outputs)
                foreach (var o in outputs.OfType<JsonObject>())
                    if (ReadOutput(o) is { } output) cell.Outputs.Add(output);
            notebook.Cells.Add(cell);
        }
        return notebook;
    }

    /// <summary>Writes the notebook as .ipynb JSON (one-space indent, like Jupyter).</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        File.WriteAllText(path, ToJson(), new UTF8Encoding(false));
    }

    /// <summary>The notebook as .ipynb JSON text.</summary>
    public string ToJson()
    {
        var cells = new JsonArray();
        var ids = new HashSet<string>(Cells.Where(c => c.Id is not null).Select(c => c.Id!));
        for (int index = 0; index < Cells.Count; index++)
        {
            var cell = Cells[index];
            // nbformat 4.5 requires a unique id per cell; give one (stable: from the position) to cells without.
            if (cell.Id is null && (FormatMajor > 4 || FormatMinor >= 5))
            {
                string id = $"cell-{index + 1:D3}";
                while (!ids.Add(id)) id += "x";
                cell.Id = id;
            }
            var c = new JsonObject { ["cell_type"] = cell.Kind.ToString().ToLowerInvariant() };
            if (cell.Id is not null) c["id"] = cell.Id;
            if (cell.Kind == CellKind.Code) c["execution_count"] = cell.ExecutionCount;
            c["metadata"] = cell.Metadata.DeepClone();
            if (cell.Kind == CellKind.Code)
                c["outputs"] = new JsonArray(cell.Outputs.Select(WriteOutput).ToArray<JsonNode?>());
            c["source"] = SplitLines(cell.Source);
            cells.Add(c);
        }
        var root = new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = Metadata.DeepClone(),
            ["nbformat"] = FormatMajor,
            ["nbformat_minor"] = FormatMinor,
        };
        var options = new JsonSerializerOptions { WriteIndented = true, IndentSize = 1, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return root.ToJsonString(options) + "\n";
    }

    /// <summary>Removes every output and execution count (notebooks are committed clean).</summary>
    public void ClearOutputs()
    {
        foreach (var cell in Cells)
        {
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
        }
    }

    internal static CellOutput? ReadOutput(JsonObject o) => o["output_type"]?.GetValue<string>() switch
    {
        "stream" => new StreamOutput(o["name"]?.GetValue<string>() ?? "stdout", JoinText(o["text"])),
        "display_data" => new DisplayOutput(ReadData(o["data"])),
        "execute_result" => new ResultOutput(ReadData(o["data"]), o["execution_count"]?.GetValue<int>() ?? 0),
        "error" => new ErrorOutput(o["ename"]?.GetValue<string>() ?? "", o["evalue"]?.GetValue<string>() ?? "",
                                   (o["traceback"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "").ToList() ?? []),
        _ => null,
    };

    private static Dictionary<string, string> ReadData(JsonNode? data) =>
        (data as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value is JsonValue or JsonArray ? JoinText(kv.Value) : kv.Value?.ToJsonString() ?? "")
        ?? [];

    internal static JsonObject WriteOutput(CellOutput output) => output switch
    {
        StreamOutput s => new JsonObject { ["name"] = s.Name, ["output_type"] = "stream", ["text"] = SplitLines(s.Text) },
        DisplayOutput d => new JsonObject { ["data"] = WriteData(d.Data), ["metadata"] = new JsonObject(), ["output_type"] = "display_data" },
        ResultOutput r => new JsonObject
        {
            ["data"] = WriteData(r.Data), ["execution_count"] = r.ExecutionCount, ["metadata"] = new JsonObject(), ["output_type"] = "execute_result",
        },
        ErrorOutput e => new JsonObject
        {
            ["ename"] = e.Name, ["evalue"] = e.Value, ["output_type"] = "error",
            ["traceback"] = new JsonArray(e.Traceback.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(output)),
    };

    private static JsonObject WriteData(IReadOnlyDictionary<string, string> data)
    {
        var obj = new JsonObject();
        foreach (var (mime, content) in data.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            obj[mime] = mime.EndsWith("json", StringComparison.Ordinal) && TryParse(content) is { } json ? json : SplitLines(content);
        return obj;
    }

    private static JsonNode? TryParse(string text)
    {
        try { return JsonNode.Parse(text); } catch (JsonException) { return null; }
    }

    /// <summary>nbformat's multiline strings: a list of lines, each but the last ending with \n.</summary>
    internal static JsonArray SplitLines(string text)
    {
        var lines = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            lines.Add(text[start..end]);
            start = end;
        }
        return lines;
    }

    private static string JoinText(JsonNode? node) => node switch
    {
        null => "",
        JsonArray a => string.Concat(a.Select(x => x?.GetValue<string>() ?? "")),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i < 0 ? message : message[..(i + 1)];
    }
}
