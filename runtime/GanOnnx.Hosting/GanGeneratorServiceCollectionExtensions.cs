using GanOnnx.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GanOnnx.Hosting;

/// <summary>Registers GanOnnx generators in a service collection.</summary>
public static class GanGeneratorServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="GeneratorSession"/> built from <paramref name="configure"/>'s options (the container
    /// disposes it), loaded when the host starts (<see cref="GanGeneratorOptions.LoadOnStart"/>) or, without a host or with
    /// that off, on first use. Loading is logged at Information with the contract and the provider chosen; a model that
    /// fails to load throws <see cref="GanOnnxException"/> from the host's start or the first resolution.
    /// </summary>
    public static IServiceCollection AddGanGenerator(this IServiceCollection services, Action<GanGeneratorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<GanGeneratorOptions>().Configure(configure);
        services.AddSingleton(provider => Create(provider.GetRequiredService<IOptions<GanGeneratorOptions>>().Value, provider, name: null));
        services.AddSingleton<IHostedService>(provider => new LoadOnStart(provider, name: null));
        return services;
    }

    /// <summary>Registers a singleton generator for the model at <paramref name="modelPath"/>.</summary>
    public static IServiceCollection AddGanGenerator(this IServiceCollection services, string modelPath, GeneratorOptions? options = null) =>
        services.AddGanGenerator(o =>
        {
            o.ModelPath = modelPath;
            if (options is not null) o.Generator = options;
        });

    /// <summary>
    /// Registers a keyed singleton generator, for apps that serve several models: resolve it with
    /// <c>[FromKeyedServices("name")] GeneratorSession</c> or <c>GetRequiredKeyedService&lt;GeneratorSession&gt;("name")</c>.
    /// </summary>
    public static IServiceCollection AddGanGenerator(this IServiceCollection services, string name, Action<GanGeneratorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<GanGeneratorOptions>(name).Configure(configure);
        services.AddKeyedSingleton(name, (provider, key) =>
            Create(provider.GetRequiredService<IOptionsMonitor<GanGeneratorOptions>>().Get((string)key!), provider, (string)key!));
        services.AddSingleton<IHostedService>(provider => new LoadOnStart(provider, name));
        return services;
    }

    /// <summary>
    /// Resolves one registered generator when the host starts, if its <see cref="GanGeneratorOptions.LoadOnStart"/> says so:
    /// the container keeps the session, so this is the load every later resolution gets.
    /// </summary>
    private sealed class LoadOnStart(IServiceProvider provider, string? name) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var options = provider.GetRequiredService<IOptionsMonitor<GanGeneratorOptions>>().Get(name ?? Options.DefaultName);
            if (!options.LoadOnStart) return Task.CompletedTask;
            _ = name is null ? provider.GetRequiredService<GeneratorSession>() : provider.GetRequiredKeyedService<GeneratorSession>(name);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static GeneratorSession Create(GanGeneratorOptions options, IServiceProvider provider, string? name)
    {
        var logger = provider.GetService<ILoggerFactory>()?.CreateLogger("GanOnnx.Hosting.GanGenerator") ?? NullLogger.Instance;
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            throw new GanOnnxException($"{nameof(GanGeneratorOptions)}.{nameof(GanGeneratorOptions.ModelPath)} is empty{(name is null ? "" : $" for generator '{name}'")}; set it to the ONNX model's path.");
        try
        {
            var session = GeneratorSession.Load(options.ModelPath, options.Generator);
            var c = session.Contract;
            if (logger.IsEnabled(LogLevel.Information))
                logger.LogInformation("Loaded GAN generator {Name} from {Model}: latent {LatentDim} ({Distribution}), images {Channels}x{Height}x{Width}, {Classes} classes; {Provider}",
                    name ?? "(default)", options.ModelPath, c.LatentDim, c.LatentDistribution, c.Channels, c.Height, c.Width, c.NumClasses, session.ProviderReport);
            return session;
        }
        catch (GanOnnxException ex)
        {
            logger.LogError(ex, "Could not load GAN generator {Name} from {Model}", name ?? "(default)", options.ModelPath);
            throw;
        }
    }
}
