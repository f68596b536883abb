using System.Net;
using System.Text.Json;
using SkiaSharp;

namespace GanOnnx.WebSample.Tests;

public class SampleAppTests
{
    private SampleServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await SampleServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.Address };
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task GenerateServesAReproduciblePng()
    {
        using var a = await _http.GetAsync("/generate?seed=7&index=3");
        Assert.That(a.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(a.Content.Headers.ContentType!.MediaType, Is.EqualTo("image/png"));
        var bytes = await a.Content.ReadAsByteArrayAsync();
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((28, 28)));
        Assert.That(await _http.GetByteArrayAsync("/generate?seed=7&index=3"), Is.EqualTo(bytes));
        Assert.That(await _http.GetByteArrayAsync("/generate?seed=8&index=3"), Is.Not.EqualTo(bytes));
    }

    [Test]
    public async Task APlainUnconditionalModelAnswersAClassWithA400()
    {
        await using var server = await SampleServer.StartAsync(Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-mlp", "model.onnx"));
        using var http = new HttpClient { BaseAddress = server.Address };
        using var response = await http.GetAsync("/generate?seed=1&class=3");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("unconditional"));
    }

    [Test]
    public void AMissingModelStopsTheAppFromStartingNamingIt()
    {
        var missing = Path.Combine(TestPaths.NewTempFolder(), "gone.onnx");
        Assert.That(async () => await SampleServer.StartAsync(missing), Throws.TypeOf<Runtime.GanOnnxException>().With.Message.Contains("gone.onnx"));
    }

    [Test]
    public async Task AClassCanBeAskedForByNameInAnyCaseOrByIndex()
    {
        await using var server = await SampleServer.StartAsync(Path.Combine(TestPaths.RepositoryRoot, "models", "fashion-cdcgan", "model.onnx"));
        using var http = new HttpClient { BaseAddress = server.Address };
        var byIndex = await http.GetByteArrayAsync("/generate?seed=3&class=9");
        Assert.That(await http.GetByteArrayAsync("/generate?seed=3&class=ankle%20boot"), Is.EqualTo(byIndex));
        Assert.That(await http.GetByteArrayAsync("/generate?seed=3&class=Ankle%20Boot"), Is.EqualTo(byIndex));
        Assert.That(await http.GetByteArrayAsync("/generate?seed=3&class=trouser"), Is.Not.EqualTo(byIndex));
        using var grid = await http.GetAsync("/grid?seed=3&count=4&class=bag");
        Assert.That(grid.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var unknown = await http.GetAsync("/generate?seed=3&class=hat");
        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await unknown.Content.ReadAsStringAsync(), Does.Contain("class 'hat' is neither").And.Contain("9 Ankle boot"));
    }

    [Test]
    public async Task BadRequestsGetA400WithTheReason()
    {
        // The shipped MNIST model picks one of 20 latent clusters: class 3 is one of them, class 25 is not.
        using var cluster = await _http.GetAsync("/generate?seed=1&class=3");
        Assert.That(cluster.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var noSuchCluster = await _http.GetAsync("/generate?seed=1&class=25");
        Assert.That(noSuchCluster.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var reason = await noSuchCluster.Content.ReadAsStringAsync();
        Assert.That(reason, Does.Contain("has latent classes 0 to 19").And.Contain("'model.onnx'"));
        Assert.That(reason, Does.Not.Contain(TestPaths.RepositoryRoot), "the server's own path stays private");
        using var tooMany = await _http.GetAsync("/grid?count=100000");
        Assert.That(tooMany.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await tooMany.Content.ReadAsStringAsync(), Does.Contain("count is 100000; it must be between 1 and 256."));
    }

    [TestCase("/generate?seed=abc", "seed is 'abc'; it must be a whole number.")]
    [TestCase("/generate?seed=99999999999999999999", "seed is '99999999999999999999'; it must be a whole number.")]
    [TestCase("/generate?seed=1&index=-1", "index is -1; it must be 0 or more.")]
    [TestCase("/grid?count=abc", "count is 'abc'; it must be a whole number.")]
    [TestCase("/grid?count=0", "count is 0; it must be between 1 and 256.")]
    public async Task AMalformedNumberGetsA400WithTheReasonInTheRequestsWords(string request, string reason)
    {
        // ASP.NET's own binding answered "seed=abc" with a bare 400 and an empty body; the library's check of a
        // negative index said "startIndex … (Parameter 'startIndex') Actual value was -1".
        using var response = await _http.GetAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(problem.RootElement.GetProperty("detail").GetString(), Is.EqualTo(reason));
    }

    [Test]
    public async Task GridsBeyondTheConcurrencyLimitAndItsQueueGetA503InsteadOfMemory()
    {
        List<HttpStatusCode> codes;
        // Each grid holds its permit for 300 ms, so the twelve requests, sent together, meet a busy limiter whatever the
        // machine's speed: one runs, one waits, ten get 503.
        await using var server = await SampleServer.StartAsync(null, "--Generator:MaxConcurrentGrids=1", "--Generator:GridQueue=1", "--Generator:GridDelayMs=300");
        using var http = new HttpClient { BaseAddress = server.Address };
        // Twelve clients whose connections are already open send their grids at once.
        var clients = Enumerable.Range(0, 12).Select(_ => new HttpClient { BaseAddress = server.Address }).ToList();
        try
        {
            foreach (var client in clients) (await client.GetAsync("/info")).Dispose();
            var responses = await Task.WhenAll(clients.Select((client, i) => client.GetAsync($"/grid?count=256&seed={i}")));
            codes = responses.Select(r => r.StatusCode).ToList();
            foreach (var r in responses) r.Dispose();
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
        Assert.That(codes, Has.Some.EqualTo(HttpStatusCode.OK));
        Assert.That(codes, Has.Some.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(codes.All(c => c is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable), Is.True, string.Join(", ", codes));
        using var single = await http.GetAsync("/generate?seed=1");
        Assert.That(single.StatusCode, Is.EqualTo(HttpStatusCode.OK), "single images are not limited");
    }

    [Test]
    public async Task InfoDescribesTheModel()
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync("/info"));
        Assert.That(doc.RootElement.GetProperty("height").GetInt32(), Is.EqualTo(28));
        Assert.That(doc.RootElement.GetProperty("architecture").GetString(), Is.EqualTo("dcgan"));
    }

    [Test]
    public async Task ThePageShowsAGridAndReseedLoadsANewOneInHeadlessChromium()
    {
        var chromium = HeadlessChromium.Executable();
        if (chromium is null)
            Assert.Ignore("Chromium is not installed (apt-get install chromium); .ci/run installs it so that CI runs this test.");
        await using var browser = await HeadlessChromium.StartAsync(chromium);
        await browser.NavigateAsync(_server.Address);
        Assert.That(await browser.WaitForAsync("document.getElementById('grid') !== null && document.getElementById('grid').complete && document.getElementById('grid').naturalWidth > 0", TimeSpan.FromSeconds(20)),
            Is.True, "the grid image loads");
        var width = (await browser.EvaluateAsync("document.getElementById('grid').naturalWidth")).GetInt32();
        Assert.That(width, Is.EqualTo(4 * 28 + 5 * 2), "a 4×4 grid of 28×28 tiles with 2-pixel padding");
        var firstSrc = (await browser.EvaluateAsync("document.getElementById('grid').src")).GetString();

        await browser.EvaluateAsync("document.getElementById('reseed').click()");
        var seed = (await browser.EvaluateAsync("document.getElementById('seed').textContent")).GetString();
        Assert.That(seed, Is.Not.EqualTo("42"));
        Assert.That(await browser.WaitForAsync("document.getElementById('status').textContent === 'loaded' && document.getElementById('grid').naturalWidth > 0", TimeSpan.FromSeconds(20)),
            Is.True, "the reseeded grid loads");
        var secondSrc = (await browser.EvaluateAsync("document.getElementById('grid').src")).GetString();
        Assert.That(secondSrc, Does.Contain("seed=" + seed).And.Not.EqualTo(firstSrc));

        var screenshot = await browser.ScreenshotAsync();
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "sample-page.png");
        await File.WriteAllBytesAsync(path, screenshot);
        TestContext.AddTestAttachment(path, "The sample page after reseeding");
        using var shot = SKBitmap.Decode(screenshot);
        Assert.That(shot.Width, Is.GreaterThan(400));
    }
}
