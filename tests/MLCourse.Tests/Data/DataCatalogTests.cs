using System.Net;
using MLCourse.Data;

namespace MLCourse.Tests.Data;

public class DataCatalogTests
{
    public DataCatalogTests() => DataCatalog.RetryDelay = TimeSpan.Zero;

    [Fact]
    public void The_embedded_manifest_lists_every_loader_set_with_checksums_and_citations()
    {
        string[] loaders = [Mnist.Name, FashionMnist.Name, Imdb.Name, SentimentSentences.Name,
            Covid.SetName(CovidYear.Y2021), Covid.SetName(CovidYear.Y2022), ToyDataSets.Name,
            MLCourse.Text.WordPieceTokenizer.SetName];
        Assert.Equal(loaders.Order(), DataCatalog.Sets.Select(s => s.Name).Order());
        foreach (var set in DataCatalog.Sets)
        {
            Assert.NotEmpty(set.Citation);
            Assert.NotEmpty(set.License);
            Assert.All(set.Variants.SelectMany(v => v.Files), f => Assert.True(f.Sha256 is not null || f.Md5 is not null, $"{set.Name}/{f.Name} has no checksum"));
        }
        // Copied from shared/data/SOURCES.md.
        Assert.Equal("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            DataCatalog.Get("mnist").Variants[0].Files.Single(f => f.Name == "train-images-idx3-ubyte.gz").Sha256);
        Assert.Equal("mlcourse data fetch imdb", DataCatalog.Get("IMDB").FetchCommand);
        Assert.Throws<DataSetException>(() => DataCatalog.Get("no-such-set"));
        // Short aliases (the devcontainer's post-create step uses them).
        Assert.Equal("hylee-ml2021-hw1-covid", DataCatalog.Get("covid-2021").Name);
        Assert.Equal("hylee-ml2022-hw1-covid", DataCatalog.Get("COVID-2022").Name);
        Assert.Equal("uci-sentiment-labelled-sentences", DataCatalog.Get("uci-sentences").Name);
    }

    [Fact]
    public void The_repository_manifest_is_the_embedded_one()
    {
        var fromRepo = DataManifest.Parse(File.ReadAllText(Path.Combine(Repo.Root, "data", "datasets.json")));
        Assert.Equal(fromRepo.Select(s => s.Name), DataCatalog.Sets.Select(s => s.Name));
    }

    [Fact]
    public void List_reports_every_set_found_or_missing()
    {
        var list = DataCatalog.List();
        Assert.Equal(DataCatalog.Sets.Count, list.Count);
        Assert.All(list.Where(l => !l.Found && l.Set.Downloadable), l => Assert.Contains("mlcourse data fetch " + l.Set.Name, l.ToString()));
        Assert.All(list, l => Assert.NotEmpty(l.Searched));
    }

    [SkippableFact]
    public void Same_named_layouts_are_told_apart_by_size()
    {
        const string debian = "/usr/share/datasets/fashion-mnist";
        Skip.IfNot(Directory.Exists(debian), $"{debian} is absent (apt-get install dataset-fashion-mnist)");
        var location = DataCatalog.Locate(FashionMnist.Name, debian);
        Assert.Equal("debian", location.Variant);
        Assert.True(DataCatalog.Verify(FashionMnist.Name, debian).Ok);
    }

    [Fact]
    public void Verify_reports_ok_mismatch_and_missing_files()
    {
        using var dir = new TempFolder();
        var missing = DataCatalog.Verify("hylee-ml2021-hw1-covid", dir.Path);
        Assert.False(missing.Ok);
        Assert.All(missing.Files, f => Assert.Equal(FileStatus.Missing, f.Status));

        dir.Text("covid.train.csv", "id,tested_positive\n0,1\n");
        dir.Text("covid.test.csv", "id\n0\n");
        var mismatch = DataCatalog.Verify("hylee-ml2021-hw1-covid", dir.Path);
        Assert.False(mismatch.Ok);
        Assert.All(mismatch.Files, f => Assert.Equal(FileStatus.Mismatch, f.Status));
        Assert.Contains("expected 1779372", mismatch.Files[0].Detail);
        Assert.Contains("FAILED", mismatch.ToString());

        string? real = TestData.Folder("hylee-ml2021-hw1-covid");
        if (real is not null)
        {
            var ok = DataCatalog.Verify("hylee-ml2021-hw1-covid", real);
            Assert.True(ok.Ok, ok.ToString());
        }
    }

    [SkippableFact]
    public async Task Fetch_retries_checks_the_sha256_and_renames_into_place()
    {
        string? source = TestData.Folder(Mnist.Name);
        Skip.If(source is null, TestData.SkipReason(Mnist.Name));
        using var dir = new TempFolder();
        dir.Text("t10k-labels-idx1-ubyte.gz.0123abcd.part", "left by a killed download");
        // Every file's first request fails (HTTP 503); the retry (next URL) serves the real file.
        var handler = new FakeHandler((url, n) => n == 1
            ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            : Ok(File.ReadAllBytes(Path.Combine(source, url.Segments[^1]))));
        string folder = await DataCatalog.FetchAsync(Mnist.Name, dir.Path, new HttpClient(handler), CancellationToken.None);
        Assert.Equal(dir.Path, folder);
        Assert.Equal(8, handler.Requests);
        Assert.True(DataCatalog.Verify(Mnist.Name, folder).Ok);
        Assert.Equal(4, Directory.GetFiles(folder).Length);

        // A second fetch finds everything in place and downloads nothing.
        await DataCatalog.FetchAsync(Mnist.Name, dir.Path, new HttpClient(handler), CancellationToken.None);
        Assert.Equal(8, handler.Requests);
    }

    [Fact]
    public async Task A_checksum_mismatch_fails_after_three_tries_and_leaves_no_file()
    {
        using var dir = new TempFolder();
        var handler = new FakeHandler((_, _) => Ok(new byte[1779372]));
        var error = await Assert.ThrowsAsync<DataSetException>(() =>
            DataCatalog.FetchAsync("hylee-ml2021-hw1-covid", dir.Path, new HttpClient(handler), CancellationToken.None));
        Assert.Equal(3, handler.Requests);
        Assert.Contains("covid.train.csv", error.Message);
        Assert.Contains("sha256", error.Message);
        Assert.Contains("expected c50d2204", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Cancelling_between_chunks_stops_and_leaves_no_partial_file()
    {
        using var dir = new TempFolder();
        using var cancel = new CancellationTokenSource();
        var handler = new FakeHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new CancellingStream(cancel, 1 << 20)),
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DataCatalog.FetchAsync("hylee-ml2022-hw1-covid", dir.Path, new HttpClient(handler), cancel.Token));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task A_stalled_download_is_abandoned_and_retried()
    {
        using var dir = new TempFolder();
        var handler = new FakeHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new StallingStream()) });
        var before = DataCatalog.StallTimeout;
        DataCatalog.StallTimeout = TimeSpan.FromMilliseconds(100);
        try
        {
            var error = await Assert.ThrowsAsync<DataSetException>(() =>
                DataCatalog.FetchAsync("covid-2021", dir.Path, new HttpClient(handler), CancellationToken.None));
            Assert.Contains("no data received", error.Message);
            Assert.Equal(3, handler.Requests);
            Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
        }
        finally
        {
            DataCatalog.StallTimeout = before;
        }
    }

    [Fact]
    public async Task A_set_without_urls_says_how_to_get_it()
    {
        using var dir = new TempFolder();
        var error = await Assert.ThrowsAsync<DataSetException>(() => DataCatalog.FetchAsync(SentimentSentences.Name, dir.Path));
        Assert.Contains("cannot be downloaded automatically", error.Message);
        Assert.Contains("imdb_labelled.txt", error.Message);
    }

    private static HttpResponseMessage Ok(byte[] content) => new(HttpStatusCode.OK) { Content = new ByteArrayContent(content) };

    /// <summary>Answers requests from a function of (url, how many requests this url's file name has seen).</summary>
    private sealed class FakeHandler(Func<Uri, int, HttpResponseMessage> respond) : HttpMessageHandler
    {
        private readonly Dictionary<string, int> perFile = new();
        public int Requests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (perFile)
            {
                Requests++;
                string file = request.RequestUri!.Segments[^1];
                perFile[file] = perFile.GetValueOrDefault(file) + 1;
                return Task.FromResult(respond(request.RequestUri, perFile[file]));
            }
        }
    }

    /// <summary>A body that never sends a byte.</summary>
    private sealed class StallingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    /// <summary>A body that cancels the download's token once the first chunk has been read.</summary>
    private sealed class CancellingStream(CancellationTokenSource cancel, long length) : Stream
    {
        private long position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, length - position);
            position += n;
            if (position > 0) cancel.Cancel();
            return n;
        }
    }
}
