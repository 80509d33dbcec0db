using MLCourse.Tests.Kernel;
using PuppeteerSharp;

namespace MLCourse.Tests.Book;

/// <summary>
/// Builds a quick-mode book (`mlcourse book --quick`) and opens every page in Debian's headless Chromium, driven by
/// PuppeteerSharp with the system executable (nothing downloaded), every request other than the site's own files
/// blocked: no console errors, every chart container holds a drawn SVG with data, math rendered (no raw $$), search finds
/// a known term. Then nbconvert's HTML of an executed chapter, opened the same way, draws its charts.
/// By default the site holds 00, 13 and one homework (about 15 s of execution); MLCOURSE_BOOK_ALL=1 builds every page of
/// docs/course-map.md. Skipped without Chromium unless MLCOURSE_REQUIRE_BROWSER=1 (CI sets it).
/// </summary>
public sealed class BookBrowserTests : IClassFixture<BookBrowserTests.Site>
{
    private readonly Site site;

    public BookBrowserTests(Site site) => this.site = site;

    public static string? Chromium =>
        new[] { Environment.GetEnvironmentVariable("MLCOURSE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    private static void SkipWithoutBrowser()
    {
        if (Chromium is not null) return;
        Assert.False(Environment.GetEnvironmentVariable("MLCOURSE_REQUIRE_BROWSER") == "1", "MLCOURSE_REQUIRE_BROWSER=1 but no Chromium (apt-get install chromium)");
        Skip.If(true, "no Chromium (apt-get install chromium)");
    }

    /// <summary>The quick-mode site, built once for the class.</summary>
    public sealed class Site : IDisposable
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("mlcourse-book-").FullName;
        public string Executed { get; } = Path.Combine(Repo.Root, "artifacts", "book", "executed-quick");
        private readonly Lazy<string> build;

        public Site() => build = new Lazy<string>(Build);

        public string Output => Path.Combine(Folder, "site");

        /// <summary>Builds the site (once); returns the command's output.</summary>
        public string EnsureBuilt() => build.Value;

        private string Build()
        {
            Repo.UseSharedData();
            var arguments = new List<string> { JupyterClients.CliDll, "book", "--quick", "-o", Output, "--executed", Executed };
            if (Environment.GetEnvironmentVariable("MLCOURSE_BOOK_ALL") != "1") arguments.AddRange(["00-setup", "13-diffusion", "hw-optimizers"]);
            var (code, log) = JupyterClients.Run(JupyterClients.Dotnet, arguments, TimeSpan.FromMinutes(30),
                                                 new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" });
            Assert.True(code == 0, "mlcourse book failed:\n" + log);
            return log;
        }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    private static async Task<IBrowser> Launch() => await Puppeteer.LaunchAsync(new LaunchOptions
    {
        ExecutablePath = Chromium,
        Headless = true,
        // --proxy-server to a closed port: any request that escaped the interception below could not reach a network.
        Args = ["--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"],
        Timeout = 60_000,
    });

    /// <summary>A page whose requests other than file:// and data: are aborted (and recorded), and whose console errors are recorded.</summary>
    private static async Task<(IPage Page, List<string> Errors, List<string> Blocked)> Open(IBrowser browser)
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 1000 });
        var errors = new List<string>();
        var blocked = new List<string>();
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) lock (errors) errors.Add(e.Message.Text); };
        page.PageError += (_, e) => { lock (errors) errors.Add("page error: " + e.Message); };
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            if (e.Request.Url.StartsWith("file:", StringComparison.Ordinal) || e.Request.Url.StartsWith("data:", StringComparison.Ordinal))
                await e.Request.ContinueAsync();
            else
            {
                lock (blocked) blocked.Add(e.Request.Url);
                await e.Request.AbortAsync();
            }
        };
        return (page, errors, blocked);
    }

    private const string ChartsDrawn = """
        (() => Array.from(document.querySelectorAll(SELECTOR)).map(el => ({
          id: el.id,
          svg: el.querySelectorAll('svg.main-svg').length,
          data: el.querySelectorAll('.cartesianlayer .plot .trace, .cartesianlayer .plot image, .heatmaplayer image, .imagelayer image').length
        })))()
        """;

    public sealed record Chart(string id, int svg, int data);

    [SkippableFact]
    public async Task Every_page_draws_its_charts_and_math_offline_without_console_errors_and_search_finds_a_term()
    {
        SkipWithoutBrowser();
        site.EnsureBuilt();
        var pages = Directory.GetFiles(site.Output, "*.html").Order().ToList();
        Assert.Contains(pages, p => p.EndsWith("13-diffusion.html"));
        await using var browser = await Launch();
        int charts = 0, formulas = 0;
        foreach (var file in pages)
        {
            var (page, errors, blocked) = await Open(browser);
            string name = Path.GetFileName(file);
            await page.GoToAsync(new Uri(file).AbsoluteUri, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 60_000 });
            await page.WaitForNetworkIdleAsync(new WaitForNetworkIdleOptions { IdleTime = 300, Timeout = 30_000 });
            var drawn = await page.EvaluateExpressionAsync<Chart[]>(ChartsDrawn.Replace("SELECTOR", "'.output.chart'"));
            Assert.All(drawn, c => Assert.True(c.svg > 0 && c.data > 0, $"{name}: chart {c.id} has {c.svg} SVG and {c.data} drawn traces"));
            charts += drawn.Length;
            int math = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.math').length");
            int rendered = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.math .katex').length");
            Assert.True(math == rendered, $"{name}: {rendered} of {math} formulas rendered by KaTeX");
            int katexErrors = await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.katex-error').length");
            Assert.True(katexErrors == 0, $"{name}: {katexErrors} formulas KaTeX could not parse");
            string text = await page.EvaluateExpressionAsync<string>("document.querySelector('main').innerText");
            Assert.False(text.Contains("$$", StringComparison.Ordinal), $"{name}: raw $$ left in the page");
            formulas += rendered;
            Assert.True(errors.Count == 0, $"{name}: console errors:\n" + string.Join("\n", errors));
            Assert.True(blocked.Count == 0, $"{name}: asked the network for:\n" + string.Join("\n", blocked));
            if (name == "13-diffusion.html")
            {
                Assert.True(drawn.Length > 0 && rendered > 0, "chapter 13 has charts and formulas");
                string shot = Environment.GetEnvironmentVariable("MLCOURSE_BOOK_SCREENSHOT") is { Length: > 0 } s ? s : Path.Combine(Repo.Root, "artifacts", "book", "ch13.png");
                Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
                await page.ScreenshotAsync(shot, new ScreenshotOptions { FullPage = true });
                // And one screen (sidebar and TOC included) scrolled to the first chart, with formulas above it.
                await page.EvaluateExpressionAsync("window.scrollTo(0, Math.max(0, document.querySelector('.output.chart').getBoundingClientRect().top + window.scrollY - 480))");
                await page.ScreenshotAsync(Path.ChangeExtension(shot, null) + "-screen.png");
            }
            await page.CloseAsync();
        }
        Assert.True(charts > 0 && formulas > 0, $"{charts} charts and {formulas} formulas in the whole site");

        // Search: a term from chapter 13's prose leads to chapter 13.
        var (index, indexErrors, _) = await Open(browser);
        await index.GoToAsync(new Uri(Path.Combine(site.Output, "index.html")).AbsoluteUri);
        await index.TypeAsync("#search", "denoising");
        await index.WaitForSelectorAsync("#search-results a", new WaitForSelectorOptions { Timeout = 10_000 });
        var hits = await index.EvaluateExpressionAsync<string[]>("Array.from(document.querySelectorAll('#search-results a')).map(a => a.getAttribute('href'))");
        Assert.Contains(hits, h => h.StartsWith("13-diffusion.html", StringComparison.Ordinal));
        await index.TypeAsync("#search", "zzqxjv");   // nothing matches "denoisingzzqxjv"
        await index.WaitForFunctionAsync("() => !document.querySelector('#search-results a')", new WaitForFunctionOptions { Timeout = 10_000 });
        Assert.Empty(indexErrors);
    }

    [SkippableFact]
    public async Task Nbconvert_html_of_an_executed_chapter_draws_its_charts_offline()
    {
        SkipWithoutBrowser();
        Skip.If(JupyterClients.Python is null, "no Python with nbconvert");
        site.EnsureBuilt();
        string executed = Path.Combine(site.Executed, "00-setup.ipynb");
        string html = Path.Combine(site.Folder, "00-setup.html");
        var (code, log) = JupyterClients.Run(JupyterClients.Python!, ["-m", "nbconvert", "--to", "html", "--output-dir", site.Folder, executed], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "nbconvert failed:\n" + log);
        await using var browser = await Launch();
        var (page, errors, blocked) = await Open(browser);
        await page.GoToAsync(new Uri(html).AbsoluteUri, new NavigationOptions { WaitUntil = [WaitUntilNavigation.Load], Timeout = 60_000 });
        await page.WaitForFunctionAsync("() => document.querySelectorAll('.mlcourse-plotly svg.main-svg').length > 0", new WaitForFunctionOptions { Timeout = 20_000 });
        var drawn = await page.EvaluateExpressionAsync<Chart[]>(ChartsDrawn.Replace("SELECTOR", "'.mlcourse-plotly'"));
        Assert.NotEmpty(drawn);
        Assert.All(drawn, c => Assert.True(c.svg > 0 && c.data > 0, $"nbconvert chart {c.id} has {c.svg} SVG and {c.data} drawn traces"));
        // nbconvert's template asks CDNs for require.js and MathJax (blocked here); no chart needs them.
        Assert.DoesNotContain(blocked, u => u.Contains("plot.ly", StringComparison.OrdinalIgnoreCase) || u.Contains("plotly", StringComparison.OrdinalIgnoreCase));
    }
}
