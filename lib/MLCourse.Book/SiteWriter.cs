using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using MLCourse.Notebooks;

namespace MLCourse.Book;

/// <summary>What the site is built from and where its browser libraries come from.</summary>
public sealed record SiteOptions
{
    /// <summary>The folder the site is written to (replaced).</summary>
    public required string OutputFolder { get; init; }

    /// <summary>The folder holding build/site's node_modules (KaTeX, highlight.js, MiniSearch, installed by <c>npm ci</c>).</summary>
    public required string AssetsFolder { get; init; }

    /// <summary>The site's title.</summary>
    public string Title { get; init; } = "MLCourse: a C# deep-learning workbook";
}

/// <summary>
/// Writes the book: one HTML page per notebook (sidebar in lecture order with numbers and Chinese titles, a table of
/// contents per page, Markdown through Markdig, math for KaTeX, C# for highlight.js, every output, charts drawn from
/// Plotly's figure JSON with the plotly.js Plotly.NET ships), an index page and a search index for MiniSearch. All
/// scripts and fonts are files of the site: it works offline.
/// </summary>
public static partial class SiteWriter
{
    // Markdig's advanced extensions without generic attributes, whose "{…}" would eat LaTeX such as x_{t-1}.
    private static readonly MarkdownPipeline markdown = new MarkdownPipelineBuilder()
        .UseMathematics()          // $…$ and $$…$$ kept, in .math elements, for KaTeX
        .UseAutoIdentifiers(Markdig.Extensions.AutoIdentifiers.AutoIdentifierOptions.GitHub)
        .UsePipeTables().UseGridTables().UseEmphasisExtras().UseListExtras().UseTaskLists().UseAutoLinks().UseFootnotes()
        .Build();

    /// <summary>Files the site copies from the npm packages (relative to node_modules → relative to the site's assets/).</summary>
    private static readonly (string From, string To)[] vendored =
    [
        ("katex/dist/katex.min.js", "katex/katex.min.js"),
        ("katex/dist/katex.min.css", "katex/katex.min.css"),
        ("katex/dist/fonts", "katex/fonts"),
        ("@highlightjs/cdn-assets/highlight.min.js", "highlight/highlight.min.js"),
        ("@highlightjs/cdn-assets/styles/github.min.css", "highlight/github.min.css"),
        ("minisearch/dist/umd/index.js", "minisearch/minisearch.js"),
    ];

    /// <summary>Writes the site; returns the pages' file names.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<BookPage> pages, SiteOptions options)
    {
        string output = Path.GetFullPath(options.OutputFolder);
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        Directory.CreateDirectory(output);
        CopyAssets(options.AssetsFolder, Path.Combine(output, "assets"));

        var searchDocuments = new JsonArray();
        var written = new List<string>();
        for (int i = 0; i < pages.Count; i++)
        {
            var page = pages[i];
            var (body, toc, sections) = RenderNotebook(page, pages);
            string html = Layout(page.Heading, body, toc, page, pages, i, options);
            File.WriteAllText(Path.Combine(output, page.Slug + ".html"), html, new UTF8Encoding(false));
            written.Add(page.Slug + ".html");
            foreach (var (anchor, title, text) in sections)
                searchDocuments.Add(new JsonObject
                {
                    ["id"] = searchDocuments.Count, ["page"] = page.Slug + ".html", ["anchor"] = anchor,
                    ["pageTitle"] = $"{page.Number} · {page.EnglishTitle}", ["title"] = title, ["text"] = text,
                });
        }
        File.WriteAllText(Path.Combine(output, "index.html"), Layout(options.Title, IndexBody(pages, options), "", null, pages, -1, options), new UTF8Encoding(false));
        written.Insert(0, "index.html");
        File.WriteAllText(Path.Combine(output, "assets", "search-index.js"),
                          "window.MLCOURSE_SEARCH = " + searchDocuments.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + ";\n",
                          new UTF8Encoding(false));
        return written;
    }

    private static void CopyAssets(string nodeModules, string assets)
    {
        Directory.CreateDirectory(assets);
        foreach (var (from, to) in vendored)
        {
            string source = Path.Combine(nodeModules, from), target = Path.Combine(assets, to);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Directory.Exists(source))
            {
                Directory.CreateDirectory(target);
                foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
            else if (File.Exists(source)) File.Copy(source, target, overwrite: true);
            else throw new FileNotFoundException($"{source} is missing: run `npm ci` in build/site (mlcourse book does it when npm is on the PATH).", source);
        }
        string plotly = MLCourse.Views.PlotlyJavaScript ?? throw new InvalidOperationException("Plotly.NET's copy of plotly.js is missing from its assembly.");
        Directory.CreateDirectory(Path.Combine(assets, "plotly"));
        File.WriteAllText(Path.Combine(assets, "plotly", "plotly.min.js"), plotly, new UTF8Encoding(false));
        foreach (var name in new[] { "site.css", "site.js" })
        {
            using var stream = typeof(SiteWriter).Assembly.GetManifestResourceStream(name)!;
            using var file = File.Create(Path.Combine(assets, name));
            stream.CopyTo(file);
        }
    }

    private static (string Body, string Toc, List<(string Anchor, string Title, string Text)> Sections) RenderNotebook(BookPage page, IReadOnlyList<BookPage> pages)
    {
        var body = new StringBuilder();
        var toc = new StringBuilder();
        var sections = new List<(string Anchor, string Title, string Text)> { ("", page.Heading, "") };
        var known = pages.Select(p => p.Slug).ToHashSet();
        int chartIndex = 0;
        foreach (var cell in page.Notebook.Cells)
        {
            switch (cell.Kind)
            {
                case CellKind.Markdown:
                {
                    var document = Markdown.Parse(JoinMathLines(cell.Source), markdown);
                    foreach (var heading in document.Descendants<HeadingBlock>())
                    {
                        string id = heading.GetAttributes().Id ?? "";
                        string text = Plain(heading.Inline?.ToString() ?? "", heading);
                        if (heading.Level is 2 or 3 && id.Length > 0)
                        {
                            toc.Append($"<li class=\"toc-h{heading.Level}\"><a href=\"#{id}\">{WebUtility.HtmlEncode(text)}</a></li>");
                            sections.Add((id, text, ""));
                        }
                    }
                    string html = Markdig.Markdown.ToHtml(document, markdown);
                    html = NotebookLink().Replace(html, m => known.Contains(m.Groups["slug"].Value) ? $"href=\"{m.Groups["slug"].Value}.html{m.Groups["anchor"].Value}\"" : m.Value);
                    html = LinkChapterMentions(html, pages);
                    body.Append("<section class=\"cell markdown\">").Append(html).Append("</section>\n");
                    var last = sections[^1];
                    sections[^1] = last with { Text = last.Text + " " + Markdig.Markdown.ToPlainText(cell.Source, markdown) };
                    break;
                }
                case CellKind.Code:
                {
                    body.Append("<section class=\"cell code\"><pre class=\"source\"><code class=\"language-csharp\">")
                        .Append(WebUtility.HtmlEncode(cell.Source)).Append("</code></pre>");
                    var last = sections[^1];
                    sections[^1] = last with { Text = last.Text + " " + cell.Source };
                    if (cell.Outputs.Count > 0)
                    {
                        body.Append("<div class=\"outputs\">");
                        foreach (var output in cell.Outputs) body.Append(RenderOutput(output, page.Slug, ref chartIndex));
                        body.Append("</div>");
                    }
                    body.Append("</section>\n");
                    break;
                }
                default:
                    body.Append("<section class=\"cell raw\"><pre>").Append(WebUtility.HtmlEncode(cell.Source)).Append("</pre></section>\n");
                    break;
            }
        }
        string tocHtml = toc.Length == 0 ? "" : $"<nav class=\"toc\" aria-label=\"On this page\"><h2>On this page</h2><ul>{toc}</ul></nav>";
        return (body.ToString(), tocHtml, sections);
    }

    private static string Plain(string inline, HeadingBlock heading)
    {
        var sb = new StringBuilder();
        if (heading.Inline is null) return inline;
        foreach (var item in heading.Inline.Descendants<Markdig.Syntax.Inlines.LiteralInline>()) sb.Append(item.Content.ToString());
        foreach (var item in heading.Inline.Descendants<Markdig.Syntax.Inlines.CodeInline>()) sb.Append(' ').Append(item.Content);
        return sb.Length > 0 ? sb.ToString().Trim() : inline;
    }

    private static string RenderOutput(CellOutput output, string slug, ref int chartIndex)
    {
        switch (output)
        {
            case StreamOutput s:
                return $"<pre class=\"output stream {s.Name}\">{WebUtility.HtmlEncode(s.Text)}</pre>";
            case ErrorOutput e:
                return $"<pre class=\"output error\">{WebUtility.HtmlEncode($"{e.Name}: {e.Value}")}</pre>";
            case DisplayOutput d:
                return RenderData(d.Data, slug, ref chartIndex);
            case ResultOutput r:
                return RenderData(r.Data, slug, ref chartIndex);
            default:
                return "";
        }
    }

    private static string RenderData(IReadOnlyDictionary<string, string> data, string slug, ref int chartIndex)
    {
        if (data.TryGetValue(MLCourse.Views.PlotlyMimeType, out var figure))
        {
            // Drawn from the figure JSON by the site's own plotly.js; "</" cannot close the script element early.
            string id = $"chart-{slug}-{++chartIndex}";
            return $"<div class=\"output chart\" id=\"{id}\"></div><script type=\"application/json\" class=\"plotly-figure\" data-target=\"{id}\">{figure.Replace("</", "<\\/", StringComparison.Ordinal)}</script>";
        }
        if (data.TryGetValue("image/png", out var png)) return $"<div class=\"output image\"><img alt=\"output image\" src=\"data:image/png;base64,{png.Trim()}\"></div>";
        if (data.TryGetValue("image/svg+xml", out var svg)) return $"<div class=\"output image\">{svg}</div>";
        if (data.TryGetValue("text/latex", out var latex)) return $"<div class=\"output math\">{WebUtility.HtmlEncode(latex)}</div>";
        if (data.TryGetValue("text/html", out var html)) return $"<div class=\"output html\">{html}</div>";
        if (data.TryGetValue("text/markdown", out var md)) return $"<div class=\"output markdown\">{Markdig.Markdown.ToHtml(md, markdown)}</div>";
        if (data.TryGetValue("text/plain", out var text)) return $"<pre class=\"output text\">{WebUtility.HtmlEncode(text)}</pre>";
        return "";
    }

    private static string Sidebar(IReadOnlyList<BookPage> pages, int current)
    {
        var sb = new StringBuilder("<nav class=\"sidebar\" aria-label=\"Chapters\"><a class=\"home\" href=\"index.html\">MLCourse</a>");
        sb.Append("<div class=\"search\"><input id=\"search\" type=\"search\" placeholder=\"Search the book…\" aria-label=\"Search the book\" autocomplete=\"off\"><ol id=\"search-results\"></ol></div><ol class=\"chapters\">");
        PageKind? kind = null;
        for (int i = 0; i < pages.Count; i++)
        {
            var p = pages[i];
            if (p.Kind != kind)
            {
                kind = p.Kind;
                sb.Append($"<li class=\"group\">{(kind == PageKind.Chapter ? "Chapters" : "Homework")}</li>");
            }
            string zh = p.ChineseTitle.Length > 0 ? $" <span class=\"zh\" lang=\"zh\">{WebUtility.HtmlEncode(p.ChineseTitle)}</span>" : "";
            sb.Append($"<li{(i == current ? " class=\"current\"" : "")}><a href=\"{p.Slug}.html\"><span class=\"number\">{WebUtility.HtmlEncode(p.Number)}</span> {WebUtility.HtmlEncode(p.EnglishTitle)}{zh}</a></li>");
        }
        return sb.Append("</ol></nav>").ToString();
    }

    private static string IndexBody(IReadOnlyList<BookPage> pages, SiteOptions options)
    {
        var sb = new StringBuilder($"<section class=\"cell markdown\"><h1 id=\"top\">{WebUtility.HtmlEncode(options.Title)}</h1>");
        sb.Append("<p>Every chapter of the workbook, executed: the code, its charts, tables and results, in the course's lecture order. Homework pages show the exercises as released (solutions are never published).</p><ol class=\"index\">");
        foreach (var p in pages)
        {
            string zh = p.ChineseTitle.Length > 0 ? $" <span class=\"zh\" lang=\"zh\">{WebUtility.HtmlEncode(p.ChineseTitle)}</span>" : "";
            string when = p.Stamp is { } s ? $" <small>({s.Mode} mode, {s.Device}, {s.At.UtcDateTime:yyyy-MM-dd})</small>" : " <small>(exercise)</small>";
            sb.Append($"<li><a href=\"{p.Slug}.html\"><span class=\"number\">{WebUtility.HtmlEncode(p.Number)}</span> {WebUtility.HtmlEncode(p.EnglishTitle)}</a>{zh}{when}</li>");
        }
        return sb.Append("</ol></section>").ToString();
    }

    private static string Layout(string title, string body, string toc, BookPage? page, IReadOnlyList<BookPage> pages, int index, SiteOptions options)
    {
        string stamp = page is null ? ""
            : page.Stamp is { } s ? $"<p class=\"stamp\">{WebUtility.HtmlEncode(s.Describe())}</p>"
            : "<p class=\"stamp\">Homework exercise as released (mlcourse release): not executed here; solve it, then check it with <code>mlcourse grade</code>.</p>";
        string prev = index > 0 ? $"<a class=\"prev\" href=\"{pages[index - 1].Slug}.html\">← {WebUtility.HtmlEncode(pages[index - 1].Number)} {WebUtility.HtmlEncode(pages[index - 1].EnglishTitle)}</a>" : "<span></span>";
        string next = index >= 0 && index + 1 < pages.Count ? $"<a class=\"next\" href=\"{pages[index + 1].Slug}.html\">{WebUtility.HtmlEncode(pages[index + 1].Number)} {WebUtility.HtmlEncode(pages[index + 1].EnglishTitle)} →</a>"
            : index < 0 && pages.Count > 0 ? $"<a class=\"next\" href=\"{pages[0].Slug}.html\">{WebUtility.HtmlEncode(pages[0].Number)} {WebUtility.HtmlEncode(pages[0].EnglishTitle)} →</a>" : "<span></span>";
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{WebUtility.HtmlEncode(title)}} · MLCourse</title>
            <link rel="stylesheet" href="assets/katex/katex.min.css">
            <link rel="stylesheet" href="assets/highlight/github.min.css">
            <link rel="stylesheet" href="assets/site.css">
            <link rel="icon" href="data:,">
            </head>
            <body>
            {{Sidebar(pages, index)}}
            <main>
            {{stamp}}
            {{body}}
            <nav class="pager">{{prev}}{{next}}</nav>
            </main>
            {{toc}}
            <script src="assets/katex/katex.min.js"></script>
            <script src="assets/highlight/highlight.min.js"></script>
            <script src="assets/minisearch/minisearch.js"></script>
            <script src="assets/plotly/plotly.min.js"></script>
            <script src="assets/search-index.js"></script>
            <script src="assets/site.js"></script>
            </body>
            </html>
            """;
    }

    /// <summary>
    /// Markdig's inline math does not span lines: a <c>$$…$$</c> written over several lines of a paragraph (as Jupyter's
    /// MathJax accepts) is joined into one line, outside fenced code.
    /// </summary>
    internal static string JoinMathLines(string source)
    {
        if (!source.Contains("$$", StringComparison.Ordinal)) return source;
        var parts = Fence().Split(source);
        for (int i = 0; i < parts.Length; i++)
            if (!parts[i].StartsWith("```", StringComparison.Ordinal))
                parts[i] = DisplayMath().Replace(parts[i], m => m.Value.Contains('\n') ? m.Value.Replace("\r\n", " ").Replace('\n', ' ') : m.Value);
        return string.Concat(parts);
    }

    [GeneratedRegex(@"(```[\s\S]*?```)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"\$\$(?!\s*\n\s*\$\$)[^$]+?\$\$")]
    private static partial Regex DisplayMath();

    /// <summary>"chapter 12" in prose (outside links and code) becomes a link to chapter 12's page.</summary>
    internal static string LinkChapterMentions(string html, IReadOnlyList<BookPage> pages)
    {
        var byNumber = pages.Where(p => p.Kind == PageKind.Chapter).ToDictionary(p => p.Number, p => p.Slug);
        var sb = new StringBuilder();
        int depth = 0;   // inside <a>, <code>, <pre> or a heading
        foreach (var part in Tags().Split(html))
        {
            if (part.StartsWith('<'))
            {
                var tag = TagName().Match(part);
                if (tag.Success && tag.Groups["name"].Value is "a" or "code" or "pre" or "h1" or "h2" or "h3" or "h4")
                    depth += tag.Groups["close"].Success ? -1 : 1;
                sb.Append(part);
            }
            else if (depth > 0) sb.Append(part);
            else sb.Append(ChapterMention().Replace(part, m => byNumber.TryGetValue(m.Groups["n"].Value, out var slug) ? $"<a href=\"{slug}.html\">{m.Value}</a>" : m.Value));
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"(<[^>]*>)")]
    private static partial Regex Tags();

    [GeneratedRegex(@"^<(?<close>/)?(?<name>[a-z0-9]+)")]
    private static partial Regex TagName();

    [GeneratedRegex(@"\b[Cc]hapters? (?<n>\d\d)\b")]
    private static partial Regex ChapterMention();

    [GeneratedRegex(@"href=""(?:\.\./(?:notebooks|exercises|solutions)/|\./)?(?<slug>(?:\d\d-[a-z0-9-]+|hw-[a-z0-9-]+))\.ipynb(?<anchor>#[^""]*)?""")]
    private static partial Regex NotebookLink();
}
