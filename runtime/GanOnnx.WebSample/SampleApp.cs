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

        app.MapGet("/generate", (GeneratorSession generator, long? seed, long? index, string? @class) =>
            Guarded(generator, () =>
            {
                var batch = generator.Generate(1, seed ?? 42, index ?? 0, ClassOf(generator, @class));
                return Results.File(ImageEncoder.Encode(batch, 0, ImageFileFormat.Png), "image/png");
            }));

        app.MapGet("/grid", (GeneratorSession generator, long? seed, int? count, string? @class) =>
            Guarded(generator, () =>
            {
                var n = count ?? 16;
                if (n is < 1 or > MaxGridCount) throw new ArgumentOutOfRangeException(nameof(count), n, $"count must be between 1 and {MaxGridCount}.");
                if (gridDelay > TimeSpan.Zero) Thread.Sleep(gridDelay);
                var batch = generator.Generate(n, seed ?? 42, 0, ClassOf(generator, @class));
                using var grid = ImageGrid.Compose(batch);
                using var stream = new MemoryStream();
                ImageEncoder.Encode(grid, stream);
                return Results.File(stream.ToArray(), "image/png");
            })).RequireRateLimiting(GridPolicy);
        return app;
    }

    private const string GridPolicy = "grid";

    /// <summary>The <c>class</c> query parameter: an index or a class name (any case); null when not given.</summary>
    private static int? ClassOf(GeneratorSession generator, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var names = generator.Contract.ClassNames;
        return generator.Contract.ParseClass(text) ?? throw new ArgumentException(names.Count > 0
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
        catch (Exception ex) when (ex is ArgumentException or GanOnnxException)
        {
            var message = ex.Message.Replace(generator.Source, Path.GetFileName(generator.Source), StringComparison.Ordinal);
            return Results.Problem(message, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
