using System.Globalization;
using GanOnnx.Hosting;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.WebSample;

/// <summary>The sample web app: <c>/generate</c> (one PNG), <c>/grid</c> (a PNG grid), <c>/info</c> (the contract), <c>/</c> (a page).</summary>
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
            o.Generator = new GeneratorOptions { MaxBatchSize = 64 };
        });
        var app = builder.Build();

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

        app.MapGet("/generate", (GeneratorSession generator, long? seed, long? index, int? @class) =>
            Guarded(() =>
            {
                var batch = generator.Generate(1, seed ?? 42, index ?? 0, @class);
                return Results.File(ImageEncoder.Encode(batch, 0, ImageFileFormat.Png), "image/png");
            }));

        app.MapGet("/grid", (GeneratorSession generator, long? seed, int? count, int? @class) =>
            Guarded(() =>
            {
                var n = count ?? 16;
                if (n is < 1 or > MaxGridCount) throw new ArgumentOutOfRangeException(nameof(count), n, $"count must be between 1 and {MaxGridCount}.");
                var batch = generator.Generate(n, seed ?? 42, 0, @class);
                using var grid = ImageGrid.Compose(batch);
                using var stream = new MemoryStream();
                ImageEncoder.Encode(grid, stream);
                return Results.File(stream.ToArray(), "image/png");
            }));
        return app;
    }

    private static IResult Guarded(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is ArgumentException or GanOnnxException)
        {
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
