using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;

namespace MLCourse.Notebooks;

/// <summary>Whether a cell's text is ready to run (Jupyter's is_complete).</summary>
public enum SubmissionState
{
    /// <summary>Complete C#: running it makes sense.</summary>
    Complete,
    /// <summary>Unfinished: an open brace, a statement without its end… more lines are expected.</summary>
    Incomplete,
    /// <summary>Complete but with syntax errors that more text cannot fix.</summary>
    Invalid,
}

/// <summary>One completion candidate.</summary>
/// <param name="Text">The text to insert.</param>
/// <param name="Kind">Jupyter's type name: class, struct, interface, enum, method, property, field, variable, namespace, keyword…</param>
/// <param name="Signature">The symbol as C# shows it, e.g. <c>Tensor Tensor.reshape(params long[] shape)</c>.</param>
public sealed record CompletionItem(string Text, string Kind, string Signature);

/// <summary>Completions for the word ending at the cursor.</summary>
/// <param name="Start">Start of the text the items replace (UTF-16 index into the code).</param>
/// <param name="End">End of that text (the cursor).</param>
/// <param name="Items">Candidates, best first.</param>
public sealed record CompletionList(int Start, int End, IReadOnlyList<CompletionItem> Items);

/// <summary>Editor services on top of the session: is-complete, completions and inspection (the Jupyter kernel uses them).</summary>
public sealed partial class ScriptSession
{
    internal static readonly CSharpParseOptions ScriptParseOptions =
        CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest);

    /// <summary>
    /// Whether <paramref name="code"/> is a complete submission (Roslyn's <c>SyntaxFactory.IsCompleteSubmission</c> on
    /// a script syntax tree; magic lines such as <c>#r "nuget: …"</c> and <c>#!time</c> count as complete lines).
    /// </summary>
    public static SubmissionState CheckSubmission(string code)
    {
        var tree = CSharpSyntaxTree.ParseText(Magics.Parse(code).Code, ScriptParseOptions);
        if (!SyntaxFactory.IsCompleteSubmission(tree)) return SubmissionState.Incomplete;
        return tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error) ? SubmissionState.Invalid : SubmissionState.Complete;
    }

    /// <summary>
    /// Completions at <paramref name="cursor"/> (a UTF-16 index) in <paramref name="code"/>, compiled as the next cell of
    /// this session, so variables, methods and types of earlier cells are offered. After a <c>.</c> the members of the
    /// expression, type or namespace to its left; otherwise the symbols in scope and C# keywords.
    /// </summary>
    public CompletionList GetCompletions(string code, int cursor)
    {
        // Roslyn binds lazily: the semantic model is used under the compile lock, never beside a cell's compilation.
        lock (compileGate) return CompletionsLocked(code, cursor);
    }

    private CompletionList CompletionsLocked(string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        string text = BlankMagicLines(code);
        int start = cursor;
        while (start > 0 && (char.IsLetterOrDigit(text[start - 1]) || text[start - 1] == '_')) start--;
        string prefix = text[start..cursor];

        var (model, root) = Analyze(text);
        IEnumerable<ISymbol> symbols;
        IEnumerable<string> keywords = [];
        int dot = start - 1;
        while (dot >= 0 && text[dot] is ' ' or '\t') dot--;
        if (dot >= 0 && text[dot] == '.' && !(dot > 0 && text[dot - 1] == '.'))
        {
            symbols = MembersLeftOf(model, root.FindToken(dot), start);
        }
        else
        {
            symbols = model.LookupSymbols(start);
            keywords = SyntaxFacts.GetKeywordKinds().Concat(SyntaxFacts.GetContextualKeywordKinds()).Select(SyntaxFacts.GetText);
        }

        var items = new Dictionary<string, CompletionItem>(StringComparer.Ordinal);
        foreach (var symbol in symbols)
        {
            if (!symbol.CanBeReferencedByName || symbol.IsImplicitlyDeclared && symbol is not ILocalSymbol) continue;
            string name = symbol.Name;
            if (!name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !SyntaxFacts.IsValidIdentifier(name)) continue;
            items.TryAdd(name, new CompletionItem(name, KindOf(symbol), symbol.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
        }
        foreach (string keyword in keywords.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
            items.TryAdd(keyword, new CompletionItem(keyword, "keyword", keyword));

        var ordered = items.Values
            .OrderBy(i => i.Text.StartsWith(prefix, StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(i => i.Kind == "keyword" ? 1 : 0)
            .ThenBy(i => i.Text, StringComparer.OrdinalIgnoreCase)
            .ToList();
        return new CompletionList(start, cursor, ordered);
    }

    /// <summary>The symbol at <paramref name="cursor"/> as C# shows it (with its XML summary when one is available), or null.</summary>
    public string? Inspect(string code, int cursor)
    {
        lock (compileGate) return InspectLocked(code, cursor);
    }

    private string? InspectLocked(string code, int cursor)
    {
        cursor = Math.Clamp(cursor, 0, code.Length);
        string text = BlankMagicLines(code);
        var (model, root) = Analyze(text);
        foreach (int position in new[] { cursor, cursor - 1 })
        {
            if (position < 0 || position >= text.Length) continue;
            var token = root.FindToken(position);
            if (token.Parent is not { } node) continue;
            var symbol = model.GetSymbolInfo(node).Symbol ?? model.GetSymbolInfo(node).CandidateSymbols.FirstOrDefault()
                         ?? model.GetDeclaredSymbol(node) ?? model.GetTypeInfo(node).Type as ISymbol;
            if (symbol is null) continue;
            string shown = symbol.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
            string? summary = Summary(symbol.GetDocumentationCommentXml());
            return summary is null ? shown : shown + Environment.NewLine + Environment.NewLine + summary;
        }
        return null;
    }

    private (SemanticModel Model, SyntaxNode Root) Analyze(string text)
    {
        var current = state;
        Script<object> script = current is null
            ? CSharpScript.Create(text, scriptOptions)
            : current.Script.ContinueWith<object>(text, scriptOptions);
        var compilation = script.GetCompilation();
        var tree = compilation.SyntaxTrees.Last();
        return (compilation.GetSemanticModel(tree), tree.GetRoot());
    }

    private static IEnumerable<ISymbol> MembersLeftOf(SemanticModel model, SyntaxToken dot, int position)
    {
        ExpressionSyntax? left = dot.Parent switch
        {
            MemberAccessExpressionSyntax access => access.Expression,
            QualifiedNameSyntax qualified => qualified.Left,
            MemberBindingExpressionSyntax binding => binding.FirstAncestorOrSelf<ConditionalAccessExpressionSyntax>()?.Expression,
            _ => null,
        };
        if (left is null) return [];
        var info = model.GetSymbolInfo(left);
        var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
        switch (symbol)
        {
            case INamespaceSymbol ns:
                return ns.GetMembers().Where(m => model.IsAccessible(position, m));
            case ITypeSymbol type:
                return model.LookupStaticMembers(position, type);
        }
        var valueType = model.GetTypeInfo(left).Type;
        if (valueType is null || valueType.TypeKind == TypeKind.Error) return [];
        return model.LookupSymbols(position, valueType, includeReducedExtensionMethods: true).Where(s => !s.IsStatic);
    }

    private static string KindOf(ISymbol symbol) => symbol switch
    {
        INamespaceSymbol => "namespace",
        INamedTypeSymbol { TypeKind: TypeKind.Interface } => "interface",
        INamedTypeSymbol { TypeKind: TypeKind.Enum } => "enum",
        INamedTypeSymbol { TypeKind: TypeKind.Struct } => "struct",
        INamedTypeSymbol { TypeKind: TypeKind.Delegate } => "function",
        ITypeSymbol => "class",
        IMethodSymbol => "method",
        IPropertySymbol => "property",
        IFieldSymbol { IsConst: true } => "constant",
        IFieldSymbol { ContainingType.TypeKind: TypeKind.Enum } => "constant",
        IFieldSymbol field when field.ContainingType?.IsScriptClass == true => "variable",
        IFieldSymbol => "field",
        IEventSymbol => "event",
        IParameterSymbol => "parameter",
        ILocalSymbol => "variable",
        _ => "text",
    };

    private static string? Summary(string? xml)
    {
        if (string.IsNullOrWhiteSpace(xml)) return null;
        try
        {
            var summary = System.Xml.Linq.XElement.Parse(xml).Element("summary");
            return summary is null ? null : string.Join(' ', summary.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    /// <summary>Magic lines (<c>#r "nuget: …"</c>, <c>#i</c>, <c>#!time</c>) as spaces of the same length, so positions stay put.</summary>
    private static string BlankMagicLines(string code)
    {
        var lines = code.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string trimmed = lines[i].TrimStart();
            if (trimmed.StartsWith("#!", StringComparison.Ordinal) || trimmed.StartsWith("#i ", StringComparison.Ordinal)
                || trimmed.StartsWith("#r \"nuget:", StringComparison.OrdinalIgnoreCase))
                lines[i] = new string(' ', lines[i].Length);
        }
        return string.Join('\n', lines);
    }
}
