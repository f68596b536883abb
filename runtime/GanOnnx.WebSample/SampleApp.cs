using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using GanOnnx.Hosting;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.WebSample;

/// <summary>
/// The sample web app: <c>/generate</c> (one PNG), <c>/grid</c> (a PNG grid; both take <c>seed</c> and <c>class</c>, an
/// index or a class name), <c>/info</c> (the contract), <c>/</c> (a
/// page). Grids are the expensive request: at most <c>Generator:MaxConcurrentGrids</c> (default 4) are made at once and
/// <c>Generator:GridQueue</c> (default 32) wait; more get 503 with Retry-After, so memory stays bounded under load. Error
/// messages name the model by its file name, never by the server's path.
/// </summary>
public static class SampleApp
{
    /// <summary>Largest grid the app serves.</summary>
    public const int MaxGridCount = 256;

    /// <summary>Builds the app. The model comes from configuration key Generator:ModelPath.</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddGanGenerator(o =>
        {
            o.ModelPath = builder.Configuration["Generator:ModelPath"] ?? "models/mnist-dcgan/model.onnx";
            // No spinning: ONNX Runtime's idle threads would busy-wait on cores that request handling needs.
            o.Generator = new GeneratorOptions { MaxBatchSize = 64, IntraOpSpinning = false };
        });
        var maxGrids = builder.Configuration.GetValue("Generator:MaxConcurrentGrids", 4);
        var gridQueue = builder.Configuration.GetValue("Generator:GridQueue", 32);
        // A pause before each grid, to watch the limiter at work (its test; demos): 0 by default.
        var gridDelay = TimeSpan.FromMilliseconds(Math.Clamp(builder.Configuration.GetValue("Generator:GridDelayMs", 0), 0, 10_000));
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            o.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                return ValueTask.CompletedTask;
            };
            o.AddConcurrencyLimiter(GridPolicy, l =>
            {
                l.PermitLimit = Math.Max(1, maxGrids);
                l.QueueLimit = Math.Max(0, gridQueue);
                l.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
        });
        var app = builder.Build();
        app.UseRateLimiter();

        app.MapGet("/", () => Results.Content(Page.Html, "text/html; charset=utf-8"));

        app.MapGet("/info", (GeneratorSession generator) =>
        {
            var c = generator.Contract;
            return Results.Json(new
            {
                latent_dim = c.LatentDim, channels = c.Channels, height = c.Height, width = c.Width,
                classes = c.ClassNames.Count > 0 ? c.ClassNames : Enumerable.Range(0, c.NumClasses).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
                architecture = c.Architecture, dataset = c.Dataset,
            });
        });

        // The numbers come as text and are read here: a value ASP.NET cannot bind ("seed=abc") would get a bare 400 with
        // no body, where every other bad request gets its reason.
        app.MapGet("/generate", (GeneratorSession generator, string? seed, string? index, string? @class) =>
            Guarded(generator, () =>
            {
                var first = Number(index, "index", 0, 0, long.MaxValue);
                var batch = generator.Generate(1, Number(seed, "seed", 42, long.MinValue, long.MaxValue), first, ClassOf(generator, @class));
                return Results.File(ImageEncoder.Encode(batch, 0, ImageFileFormat.Png), "image/png");
            }));

        app.MapGet("/grid", (GeneratorSession generator, string? seed, string? count, string? @class) =>
            Guarded(generator, () =>
            {
                var n = (int)Number(count, "count", 16, 1, MaxGridCount);
                var s = Number(seed, "seed", 42, long.MinValue, long.MaxValue);
                var c = ClassOf(generator, @class);
                if (gridDelay > TimeSpan.Zero) Thread.Sleep(gridDelay);
                var batch = generator.Generate(n, s, 0, c);
                using var grid = ImageGrid.Compose(batch);
                using var stream = new MemoryStream();
                ImageEncoder.Encode(grid, stream);
                return Results.File(stream.ToArray(), "image/png");
            })).RequireRateLimiting(GridPolicy);
        return app;
    }

    private const string GridPolicy = "grid";

    /// <summary>A whole-number query parameter in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="fallback"/> when not given.</summary>
    private static long Number(string? text, string name, long fallback, long min, long max)
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw new RequestException($"{name} is '{text}'; it must be a whole number.");
        if (value < min || value > max)
            throw new RequestException(max == long.MaxValue
                ? $"{name} is {value}; it must be {min} or more."
                : $"{name} is {value}; it must be between {min} and {max}.");
        return value;
    }

    /// <summary>A request the app refuses, with the reason as its whole message (no parameter name appended).</summary>
    private sealed class RequestException(string message) : Exception(message);

    /// <summary>The <c>class</c> query parameter: an index or a class name (any case); null when not given.</summary>
    private static int? ClassOf(GeneratorSession generator, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var names = generator.Contract.ClassNames;
        return generator.Contract.ParseClass(text) ?? throw new RequestException(names.Count > 0
            ? $"class '{text}' is neither a class index nor a class name; the classes are {string.Join(", ", names.Select((name, i) => $"{i} {name}"))}."
            : $"class '{text}' is not a number, and this model's classes have no names.");
    }

    /// <summary>Runs a request; a bad argument becomes a 400 whose message names the model by file name only.</summary>
    private static IResult Guarded(GeneratorSession generator, Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is RequestException or ArgumentException or GanOnnxException)
        {
            var message = ex.Message;
            // .NET appends " (Parameter 'startIndex')" and "Actual value was …" to argument messages: the library's names, not the request's.
            if (ex is ArgumentException && message.IndexOf(" (Parameter '", StringComparison.Ordinal) is var cut and > 0) message = message[..cut];
            message = message.Replace(generator.Source, Path.GetFileName(generator.Source), StringComparison.Ordinal);
            return Results.Problem(message, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
