using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GanOnnx.WebSample.Tests;

/// <summary>
/// Debian's Chromium, headless, driven over the Chrome DevTools Protocol with a WebSocket: navigate, evaluate JavaScript,
/// take screenshots. No driver package needed. Dispose to close the browser and delete its profile.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The Chromium executable, or null when none is installed.</summary>
    public static string? Executable() =>
        new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    public static async Task<HeadlessChromium> StartAsync(string executable)
    {
        var profile = Directory.CreateTempSubdirectory("ganonnx-chromium-").FullName;
        var info = new ProcessStartInfo(executable,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--user-data-dir=" + profile, "about:blank",
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("Chromium did not start.");
        var browser = new HeadlessChromium(process, profile);
        try
        {
            var endpoint = await ReadDevToolsEndpointAsync(process);
            using var http = new HttpClient();
            using var response = await http.PutAsync(new Uri(endpoint, "/json/new?about:blank"), null);
            response.EnsureSuccessStatusCode();
            using var target = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            await browser._socket.ConnectAsync(new Uri(target.RootElement.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new { url = url.ToString() });

    /// <summary>Evaluates a JavaScript expression and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true });
        if (result.TryGetProperty("exceptionDetails", out var error)) throw new InvalidOperationException($"JavaScript failed: {error}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Evaluates <paramref name="condition"/> until it is true or <paramref name="timeout"/> passes.</summary>
    public async Task<bool> WaitForAsync(string condition, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            var value = await EvaluateAsync(condition);
            if (value.ValueKind == JsonValueKind.True) return true;
            await Task.Delay(100);
        }
        return false;
    }

    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    private async Task<JsonElement> SendAsync(string method, object parameters)
    {
        var id = ++_nextId;
        var message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var stream = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await _socket.ReceiveAsync(buffer, timeout.Token);
                stream.Write(buffer, 0, received.Count);
            } while (!received.EndOfMessage);
            using var reply = JsonDocument.Parse(stream.ToArray());
            if (!reply.RootElement.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id) continue; // an event
            if (reply.RootElement.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{method} failed: {error}");
            return reply.RootElement.GetProperty("result").Clone();
        }
    }

    private static async Task<Uri> ReadDevToolsEndpointAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
        {
            var match = DevToolsLine().Match(line);
            if (match.Success) return new Uri($"http://127.0.0.1:{match.Groups[1].Value}");
        }
        throw new InvalidOperationException("Chromium exited without printing its DevTools address.");
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex DevToolsLine();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }
}
