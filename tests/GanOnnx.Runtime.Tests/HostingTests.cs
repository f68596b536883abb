using GanOnnx.Hosting;
using GanOnnx.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GanOnnx.Runtime.Tests;

public class HostingTests
{
    private sealed class ListLogger(List<string> lines) : ILogger, ILoggerProvider
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Add($"{logLevel}: {formatter(state, exception)}");
        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
    }

    [Test]
    public void AddGanGeneratorRegistersOneLoggedSessionThatTheContainerDisposes()
    {
        var lines = new List<string>();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(new ListLogger(lines)));
        services.AddGanGenerator(o =>
        {
            o.ModelPath = TestPaths.ShippedModel;
            o.Generator = new GeneratorOptions { MaxBatchSize = 8 };
        });
        GeneratorSession session;
        using (var provider = services.BuildServiceProvider())
        {
            session = provider.GetRequiredService<GeneratorSession>();
            Assert.That(provider.GetRequiredService<GeneratorSession>(), Is.SameAs(session));
            Assert.That(session.Options.MaxBatchSize, Is.EqualTo(8));
            Assert.That(session.Generate(2, seed: 1).Count, Is.EqualTo(2));
        }
        Assert.That(() => session.Generate(1, seed: 1), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(lines, Has.Some.Contains("Information: Loaded GAN generator").And.Some.Contains("CPU"));
    }

    [Test]
    public void KeyedGeneratorsServeSeveralModels()
    {
        var services = new ServiceCollection();
        services.AddGanGenerator("digits", o => o.ModelPath = TestPaths.ShippedModel);
        services.AddGanGenerator("digits-small-batches", o =>
        {
            o.ModelPath = TestPaths.ShippedModel;
            o.Generator = new GeneratorOptions { MaxBatchSize = 1 };
        });
        using var provider = services.BuildServiceProvider();
        var a = provider.GetRequiredKeyedService<GeneratorSession>("digits");
        var b = provider.GetRequiredKeyedService<GeneratorSession>("digits-small-batches");
        Assert.That(a, Is.Not.SameAs(b));
        Assert.That(b.Options.MaxBatchSize, Is.EqualTo(1));
    }

    private static async Task StartHostedServices(ServiceProvider provider)
    {
        foreach (var service in provider.GetServices<IHostedService>()) await service.StartAsync(CancellationToken.None);
    }

    [Test]
    public async Task GeneratorsLoadWhenTheHostStartsUnlessToldToWait()
    {
        var lines = new List<string>();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(new ListLogger(lines)));
        services.AddGanGenerator(o => o.ModelPath = TestPaths.ShippedModel);
        services.AddGanGenerator("lazy", o =>
        {
            o.ModelPath = TestPaths.ShippedModel;
            o.LoadOnStart = false;
        });
        await using var provider = services.BuildServiceProvider();
        await StartHostedServices(provider);
        Assert.That(lines.Count(l => l.Contains("Loaded GAN generator (default)")), Is.EqualTo(1), "loaded at start, before any request");
        Assert.That(lines, Has.None.Contains("Loaded GAN generator lazy"));
        provider.GetRequiredService<GeneratorSession>();
        Assert.That(lines.Count(l => l.Contains("Loaded GAN generator (default)")), Is.EqualTo(1), "the session loaded at start is the one served");
        provider.GetRequiredKeyedService<GeneratorSession>("lazy");
        Assert.That(lines, Has.Some.Contains("Loaded GAN generator lazy"));
    }

    [Test]
    public void ABadModelStopsTheHostsStart()
    {
        var services = new ServiceCollection();
        services.AddGanGenerator("bad", o => o.ModelPath = "/nonexistent.onnx");
        using var provider = services.BuildServiceProvider();
        Assert.That(async () => await StartHostedServices(provider), Throws.TypeOf<GanOnnxException>().With.Message.Contains("does not exist"));
    }

    [Test]
    public void AMissingModelPathIsAClearErrorAndIsLogged()
    {
        var lines = new List<string>();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(new ListLogger(lines)));
        services.AddGanGenerator(_ => { });
        services.AddGanGenerator("bad", o => o.ModelPath = "/nonexistent.onnx");
        using var provider = services.BuildServiceProvider();
        Assert.That(() => provider.GetRequiredService<GeneratorSession>(), Throws.TypeOf<GanOnnxException>().With.Message.Contains("ModelPath is empty"));
        Assert.That(() => provider.GetRequiredKeyedService<GeneratorSession>("bad"), Throws.TypeOf<GanOnnxException>().With.Message.Contains("does not exist"));
        Assert.That(lines, Has.Some.StartsWith("Error: Could not load GAN generator bad"));
    }
}
