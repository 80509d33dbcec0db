using MLCourse.Book;
using MLCourse.Notebooks;

namespace MLCourse.Tests.Book;

/// <summary>The book's parts that need no browser: lecture order, titles, Markdown and math, the written site.</summary>
public sealed class BookTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("mlcourse-book-unit-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void The_lecture_order_is_the_course_maps_chapters_then_homework_exercises_never_solutions()
    {
        var order = CourseOrder.Notebooks(Repo.Root);
        var chapters = order.Where(o => o.Kind == PageKind.Chapter).Select(o => Path.GetFileName(o.Path)).ToList();
        Assert.Equal(Directory.GetFiles(Path.Combine(Repo.Root, "notebooks"), "*.ipynb").Select(Path.GetFileName).Order(), chapters);
        Assert.Equal("00-setup.ipynb", chapters[0]);
        var homework = order.Where(o => o.Kind == PageKind.Homework).ToList();
        Assert.Equal(Directory.GetFiles(Path.Combine(Repo.Root, "exercises"), "*.ipynb").Length, homework.Count);
        Assert.All(homework, h => Assert.Equal("exercises", Path.GetFileName(Path.GetDirectoryName(h.Path))));
        Assert.DoesNotContain(order, o => o.Path.Contains("solutions", StringComparison.Ordinal));
    }

    [Fact]
    public void A_course_map_without_contents_is_a_clear_error()
    {
        string map = Path.Combine(folder, "course-map.md");
        File.WriteAllText(map, "# Course map\n\nNo contents here.\n");
        var e = Assert.Throws<InvalidDataException>(() => CourseOrder.Read(map));
        Assert.Contains("## Contents", e.Message);
        Assert.Throws<FileNotFoundException>(() => CourseOrder.Read(Path.Combine(folder, "missing.md")));
    }

    private static BookPage Page(string slug, string heading, PageKind kind = PageKind.Chapter, params string[] cells)
    {
        var notebook = new Notebook();
        notebook.Cells.Add(new Cell(CellKind.Markdown, "# " + heading));
        foreach (var c in cells) notebook.Cells.Add(new Cell(CellKind.Markdown, c));
        return new BookPage(slug, kind, notebook, null);
    }

    [Fact]
    public void Titles_split_into_number_english_and_chinese()
    {
        var page = Page("13-diffusion", "13 · Diffusion models (扩散模型): from noise to data");
        Assert.Equal("13", page.Number);
        Assert.Equal("Diffusion models: from noise to data", page.EnglishTitle);
        Assert.Equal("扩散模型", page.ChineseTitle);
        var two = Page("07-rnn", "07 · Recurrent neural networks (循环神经网络) and LSTM (长短期记忆网络)");
        Assert.Equal("循环神经网络 · 长短期记忆网络", two.ChineseTitle);
        Assert.Equal("Recurrent neural networks and LSTM", two.EnglishTitle);
        var hw = Page("hw-optimizers", "Homework · Optimizers by hand", PageKind.Homework);
        Assert.Equal(("HW", "Optimizers by hand", ""), (hw.Number, hw.EnglishTitle, hw.ChineseTitle));
    }

    [Fact]
    public void Display_math_over_several_lines_is_joined_but_code_fences_are_left_alone()
    {
        Assert.Equal("see\n\n$$a = b,   \\qquad c$$\n", SiteWriter.JoinMathLines("see\n\n$$a = b,\n  \\qquad c$$\n"));
        string fenced = "```\n$$x\ny$$\n```\n";
        Assert.Equal(fenced, SiteWriter.JoinMathLines(fenced));
    }

    [Fact]
    public void Chapter_mentions_in_prose_link_to_their_pages_but_not_inside_code_or_links()
    {
        var pages = new[] { Page("11-gan", "11 · GANs"), Page("12-autoencoder", "12 · Auto-encoders") };
        string html = SiteWriter.LinkChapterMentions("<p>a GAN (chapter 11) or <code>chapter 12</code>, <a href=\"x\">chapter 12</a>, chapter 14</p>", pages);
        Assert.Equal("<p>a GAN (<a href=\"11-gan.html\">chapter 11</a>) or <code>chapter 12</code>, <a href=\"x\">chapter 12</a>, chapter 14</p>", html);
    }

    [SkippableFact]
    public void The_site_has_a_page_per_notebook_with_sidebar_toc_stamp_figures_and_search_index()
    {
        string assets = Path.Combine(Repo.Root, "build", "site", "node_modules");
        Assert.False(!Directory.Exists(assets) && Environment.GetEnvironmentVariable("MLCOURSE_REQUIRE_BROWSER") == "1",
                     "MLCOURSE_REQUIRE_BROWSER=1 but build/site has no node_modules: run `npm ci` in build/site (.ci/run does)");
        Skip.IfNot(Directory.Exists(assets), "build/site has no node_modules (npm ci)");
        var chart = MLCourse.Plots.Charts.Line([0.0, 1.0], [2.0, 3.0], "y");
        var notebook = new Notebook();
        notebook.Cells.Add(new Cell(CellKind.Markdown, "# 01 · Regression (回归): a first model\n\nThe loss $L = \\sum_i (y_i - \\hat y_i)^2$.\n\n## Gradient descent\n\nAs chapter 02 shows."));
        var code = new Cell(CellKind.Code, "Charts.Line(...)", Notebook.CSharpCellMetadata());
        code.Outputs.Add(new ResultOutput(ValueFormatter.Format(chart), 1));
        code.Outputs.Add(new StreamOutput("stdout", "loss <1>\n"));
        notebook.Cells.Add(code);
        var stamp = new ExecutionStamp(new DateTimeOffset(2026, 12, 4, 22, 0, 0, TimeSpan.Zero), "quick", "cpu", "abc");
        var pages = new[] { new BookPage("01-regression", PageKind.Chapter, notebook, stamp), Page("02-classification", "02 · Classification (分类)") };
        var written = SiteWriter.Write(pages, new SiteOptions { OutputFolder = Path.Combine(folder, "site"), AssetsFolder = assets });
        Assert.Equal(["index.html", "01-regression.html", "02-classification.html"], written);
        string html = File.ReadAllText(Path.Combine(folder, "site", "01-regression.html"));
        Assert.Contains("Executed 2026-12-04 22:00 UTC in quick mode on cpu", html);
        Assert.Contains("<span class=\"number\">02</span> Classification <span class=\"zh\" lang=\"zh\">分类</span>", html);
        Assert.Contains("<a href=\"#gradient-descent\">Gradient descent</a>", html);                  // the page's TOC
        Assert.Contains("<a href=\"02-classification.html\">chapter 02</a>", html);
        Assert.Contains("<span class=\"math\">", html);
        Assert.Contains("class=\"plotly-figure\"", html);
        Assert.Contains("loss &lt;1&gt;", html);
        Assert.DoesNotContain("https://", html);
        foreach (var asset in new[] { "katex/katex.min.js", "katex/fonts", "highlight/highlight.min.js", "minisearch/minisearch.js", "plotly/plotly.min.js", "search-index.js", "site.js", "site.css" })
            Assert.True(File.Exists(Path.Combine(folder, "site", "assets", asset)) || Directory.Exists(Path.Combine(folder, "site", "assets", asset)), asset);
        Assert.Contains("Gradient descent", File.ReadAllText(Path.Combine(folder, "site", "assets", "search-index.js")));
    }

    [Fact]
    public void Execution_stamps_round_trip_through_the_notebook_metadata()
    {
        var notebook = new Notebook();
        var stamp = new ExecutionStamp(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), "full", "cuda", "0a1b", ExecutionStamp.LibraryKey(Repo.Root));
        Assert.Equal(16, stamp.Build.Length);
        Assert.Equal(stamp.Build, ExecutionStamp.LibraryKey(Repo.Root));                 // the same sources, the same key
        Assert.NotEqual(stamp.Build, ExecutionStamp.LibraryKey(folder));
        stamp.WriteTo(notebook);
        string path = Path.Combine(folder, "n.ipynb");
        notebook.Save(path);
        Assert.Equal(stamp, ExecutionStamp.ReadFrom(Notebook.Load(path)));
        Assert.Null(ExecutionStamp.ReadFrom(new Notebook()));
    }
}
