using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MLCourse.Grading;

/// <summary>
/// Binds a check file to the grader's own types. A check is compiled as a continuation of the student's script session,
/// where the submission's top-level declarations come before every <c>using</c>: a submission that declares its own
/// <c>Expect</c>, <c>Mnist</c>, <c>Tensor</c> or <c>torch</c> would otherwise replace the helpers the check means. Every
/// simple name in the check that the submission declares at its top level and that the check's usings (or the session's
/// default imports) also reach is rewritten to the full name of what the usings reach (<c>global::MLCourse.Grading.Expect</c>);
/// names only the submission declares (the graded <c>Mlp</c>) still bind to the submission.
/// </summary>
internal static class CheckBinding
{
    /// <summary>The check's source with shadowed names written in full; the text is unchanged when nothing is shadowed.</summary>
    /// <param name="checkSource">The check file.</param>
    /// <param name="submission">The code cells the worker ran before the check.</param>
    /// <param name="defaultImports">The namespaces (and static classes) every cell of the session sees.</param>
    public static string Rewrite(string checkSource, IEnumerable<string> submission, IEnumerable<string> defaultImports)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        var imports = new List<(string Name, bool Static)>(defaultImports.Select(n => (n, false)));
        foreach (string cell in submission)
        {
            var root = CSharpSyntaxTree.ParseText(cell, options).GetCompilationUnitRoot();
            foreach (var member in root.Members) AddDeclared(member, declared);
        }
        // Only the check's own usings and the session's defaults: what the check's author meant. The submission's usings
        // do not count (a library type named like the graded Mlp must not replace the student's Mlp).
        if (declared.Count == 0) return checkSource;

        var tree = CSharpSyntaxTree.ParseText(checkSource, options);
        var checkRoot = tree.GetCompilationUnitRoot();
        imports.AddRange(checkRoot.Usings.Where(u => u.Alias is null && u.Name is not null).Select(u => (u.Name!.ToString(), u.StaticKeyword != default)));
        // Names the check declares itself (its classes, members, parameters, locals) are its own.
        var own = new HashSet<string>(checkRoot.DescendantNodes().SelectMany(OwnNames), StringComparer.Ordinal);

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in declared.Where(n => !own.Contains(n)))
            if (FullName(name, imports) is { } full) map[name] = full;
        if (map.Count == 0) return checkSource;
        return new Rewriter(map).Visit(checkRoot).ToFullString();
    }

    private static void AddDeclared(MemberDeclarationSyntax member, HashSet<string> names)
    {
        switch (member)
        {
            case BaseTypeDeclarationSyntax t: names.Add(t.Identifier.Text); break;
            case DelegateDeclarationSyntax d: names.Add(d.Identifier.Text); break;
            case MethodDeclarationSyntax m: names.Add(m.Identifier.Text); break;
            case PropertyDeclarationSyntax p: names.Add(p.Identifier.Text); break;
            case FieldDeclarationSyntax f: foreach (var v in f.Declaration.Variables) names.Add(v.Identifier.Text); break;
            case GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax l }:
                foreach (var v in l.Declaration.Variables) names.Add(v.Identifier.Text);
                break;
            case GlobalStatementSyntax { Statement: LocalFunctionStatementSyntax f }: names.Add(f.Identifier.Text); break;
            case BaseNamespaceDeclarationSyntax n: names.Add(n.Name.ToString().Split('.')[0]); break;
        }
    }

    private static IEnumerable<string> OwnNames(SyntaxNode node) => node switch
    {
        BaseTypeDeclarationSyntax t => [t.Identifier.Text],
        MethodDeclarationSyntax m => [m.Identifier.Text],
        PropertyDeclarationSyntax p => [p.Identifier.Text],
        ParameterSyntax p => [p.Identifier.Text],
        VariableDeclaratorSyntax v => [v.Identifier.Text],
        LocalFunctionStatementSyntax f => [f.Identifier.Text],
        SingleVariableDesignationSyntax d => [d.Identifier.Text],
        ForEachStatementSyntax f => [f.Identifier.Text],
        CatchDeclarationSyntax c when c.Identifier != default => [c.Identifier.Text],
        _ => [],
    };

    /// <summary>The full name (<c>global::N.S.Name</c>) that <paramref name="name"/> reaches through the imports, or null.</summary>
    private static string? FullName(string name, List<(string Name, bool Static)> imports)
    {
        var assemblies = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic).ToArray();
        // A root namespace (TorchSharp, System, MLCourse) shadowed by a class of that name.
        if (assemblies.SelectMany(ExportedTypes).Any(t => t.Namespace is { } ns && (ns == name || ns.StartsWith(name + ".", StringComparison.Ordinal))))
            return $"global::{name}";
        foreach (var (import, isStatic) in imports.Distinct())
        {
            if (!isStatic)
            {
                foreach (var assembly in assemblies)
                    if (ExportedTypes(assembly).Any(t => t.Namespace == import && !t.IsNested && SimpleName(t) == name))
                        return $"global::{import}.{name}";
                continue;
            }
            var type = assemblies.Select(a => a.GetType(import, throwOnError: false)).FirstOrDefault(t => t is not null)
                       ?? assemblies.SelectMany(ExportedTypes).FirstOrDefault(t => t.FullName?.Replace('+', '.') == import);
            if (type is null) continue;
            bool hasMember = type.GetNestedTypes(BindingFlags.Public).Any(t => SimpleName(t) == name)
                             || type.GetMembers(BindingFlags.Public | BindingFlags.Static).Any(m => m.Name == name);
            if (hasMember) return $"global::{type.FullName!.Replace('+', '.')}.{name}";
        }
        return null;
    }

    private static string SimpleName(Type t) => t.Name.Split('`')[0];

    private static IEnumerable<Type> ExportedTypes(Assembly assembly)
    {
        try { return assembly.GetExportedTypes(); }
        catch (Exception e) when (e is NotSupportedException or ReflectionTypeLoadException or FileNotFoundException) { return []; }
    }

    private sealed class Rewriter(Dictionary<string, string> map) : CSharpSyntaxRewriter
    {
        public override SyntaxNode? VisitIdentifierName(IdentifierNameSyntax node) =>
            Rewritable(node) && map.TryGetValue(node.Identifier.Text, out var full)
                ? SyntaxFactory.ParseName(full).WithTriviaFrom(node)
                : base.VisitIdentifierName(node);

        public override SyntaxNode? VisitGenericName(GenericNameSyntax node)
        {
            var visited = (GenericNameSyntax)base.VisitGenericName(node)!;
            return Rewritable(node) && map.TryGetValue(node.Identifier.Text, out var full)
                ? SyntaxFactory.ParseName(full + visited.TypeArgumentList.ToString()).WithTriviaFrom(node)
                : visited;
        }

        /// <summary>The leftmost name of an expression or type, not a member name after a dot, a label or a declaration.</summary>
        private static bool Rewritable(SimpleNameSyntax node) => node.Parent switch
        {
            MemberAccessExpressionSyntax m when m.Name == node => false,
            QualifiedNameSyntax q when q.Right == node => false,
            AliasQualifiedNameSyntax => false,
            NameEqualsSyntax or NameColonSyntax => false,
            UsingDirectiveSyntax => false,
            MemberBindingExpressionSyntax => false,
            _ => node.Ancestors().OfType<UsingDirectiveSyntax>().FirstOrDefault() is null,
        };
    }
}
