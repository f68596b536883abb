using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/GanOnnx.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(GanOnnx.Benchmarks.GenerationBenchmarks).Assembly).Run(args);
