using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace MLCourse.Grading;

/// <summary>One check class found in a check file.</summary>
/// <param name="Question">The question id of its <see cref="QuestionAttribute"/>.</param>
/// <param name="Points">The points of its attribute: the most the question can earn.</param>
/// <param name="ClassName">The class name, which the worker instantiates.</param>
/// <param name="Parameters">Names of its primary-constructor parameters: the worker passes the student's variables or
/// functions of these names (a function becomes a typed delegate), e.g. <c>new AccuracyCheck(Accuracy)</c>.</param>
/// <param name="File">The check file.</param>
/// <param name="Source">The check file's text, read by the grader's process before any student code runs.</param>
public sealed record CheckInfo(string Question, double Points, string ClassName, IReadOnlyList<string> Parameters, string File, string Source);

/// <summary>Raised when a check folder or file is unusable; grading cannot run.</summary>
public sealed class CheckFileException(string message) : Exception(message);

/// <summary>
/// Finds the checks of a homework: C# script files (<c>*.csx</c>) in <c>tests/Grader/checks/HOMEWORK/</c> and in
/// every <c>--checks DIR</c> (its <c>HOMEWORK/</c> subfolder when there is one, else its own files). Each file holds
/// classes marked <c>[Question("HOMEWORK.qN", Points = P)]</c> that derive from <see cref="QuestionCheck"/>.
/// Files are only parsed here (in the grader's process); they are compiled in the worker, after the notebook.
/// </summary>
public static class CheckFiles
{
    /// <summary>The repository's check folder (<c>tests/Grader/checks</c>), walking up from <paramref name="start"/>, or null.</summary>
    public static string? DefaultFolder(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLCourse.slnx")))
            {
                string folder = Path.Combine(dir.FullName, "tests", "Grader", "checks");
                return Directory.Exists(folder) ? folder : null;
            }
        return null;
    }

    /// <summary>
    /// The packages <paramref name="homework"/> declares: package ids, one a line, in <c>HOMEWORK/packages.txt</c> of each
    /// check folder (<c>#</c> starts a comment). A graded notebook may <c>#r "nuget:"</c> only these and the carried ones.
    /// </summary>
    public static string[] LoadPackages(string homework, IEnumerable<string> folders) =>
        folders.Select(f => Path.Combine(f, homework, "packages.txt")).Where(File.Exists)
            .SelectMany(File.ReadAllLines)
            .Select(l => l.Split('#', 2)[0].Trim()).Where(l => l.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();

    /// <summary>The checks of <paramref name="homework"/> in <paramref name="folders"/>, in file and declaration order.</summary>
    public static IReadOnlyList<CheckInfo> Load(string homework, IEnumerable<string> folders)
    {
        var checks = new List<CheckInfo>();
        foreach (string folder in folders)
        {
            if (!Directory.Exists(folder)) throw new CheckFileException($"check folder {folder} does not exist.");
            string sub = Path.Combine(folder, homework);
            string root = Directory.Exists(sub) ? sub : folder;
            foreach (string file in Directory.GetFiles(root, "*.csx").Order(StringComparer.Ordinal))
                checks.AddRange(Parse(File.ReadAllText(file), file).Where(c => c.Question.StartsWith(homework + ".", StringComparison.Ordinal)));
        }
        var duplicate = checks.GroupBy(c => c.Question).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new CheckFileException(
                $"question {duplicate.Key} has more than one check class ({string.Join(", ", duplicate.Select(c => $"{c.ClassName} in {c.File}"))}); "
                + $"give private checks their own ids, e.g. {duplicate.Key}.hidden.");
        return checks;
    }

    /// <summary>The check classes declared in one file's text.</summary>
    public static IReadOnlyList<CheckInfo> Parse(string source, string file)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script), file);
        var errors = tree.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
            throw new CheckFileException($"{file}: {errors[0]}");
        var list = new List<CheckInfo>();
        foreach (var type in tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>())
        {
            var attribute = type.AttributeLists.SelectMany(l => l.Attributes)
                .FirstOrDefault(a => a.Name.ToString() is "Question" or "QuestionAttribute" or "MLCourse.Grading.Question" or "MLCourse.Grading.QuestionAttribute");
            if (attribute is null) continue;
            string where = $"{file}, class {type.Identifier.Text}";
            var args = attribute.ArgumentList?.Arguments ?? default;
            if (args.Count == 0 || args[0].Expression is not LiteralExpressionSyntax { Token.Value: string id })
                throw new CheckFileException($"{where}: [Question(\"id\", Points = …)] needs the id as a string literal.");
            var pointsArg = args.Skip(1).FirstOrDefault(a => a.NameEquals?.Name.Identifier.Text == "Points");
            if (pointsArg?.Expression is not LiteralExpressionSyntax { Token.Value: { } value }
                || !double.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out double points)
                || points <= 0)
                throw new CheckFileException($"{where}: [Question(\"{id}\", Points = …)] needs a positive number literal for Points.");
            if (type.Parent is ClassDeclarationSyntax)
                throw new CheckFileException($"{where}: check classes must be declared at the top level of the file.");
            var parameters = type.ParameterList?.Parameters.Select(p => p.Identifier.Text).ToArray() ?? [];
            list.Add(new CheckInfo(id, points, type.Identifier.Text, parameters, Path.GetFullPath(file), source));
        }
        return list;
    }
}
