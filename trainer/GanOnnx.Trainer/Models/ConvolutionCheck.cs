using System.Globalization;
using GanOnnx.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// The start-up self-check of libtorch's native convolution kernels on the layer shapes of the model being trained:
/// each distinct convolution and transposed convolution of its generator and discriminator, at the input shape it sees,
/// is run in float32 with the native kernels and compared with float64 — forward, input gradient, and (for WGAN-GP,
/// whose penalty differentiates twice) the second derivative. The defect it looks for (libtorch 2.10's float32 transposed
/// convolution wrong by up to 3.4, or NaN, on some processors; see <see cref="ExactConv2d"/>) is orders of magnitude
/// above float32 rounding, so one threshold separates them. The defect is intermittent (measured on an AMD EPYC: a NaN
/// input gradient of a 1-channel convolution in 1 of 15 single passes), so every layer shape is checked
/// <see cref="Repetitions"/> times with new inputs, and each float32 result is computed twice and must be bit-identical;
/// the check stops at the first failure. 1–5 s (28×28 DCGAN: 40 passes in 1.5 s); the random state is left as it was.
/// </summary>
public static class ConvolutionCheck
{
    /// <summary>Largest error, relative to the largest float64 value, that counts as exact (float32 rounding is ~1e-6).</summary>
    public const double Tolerance = 1e-3;

    /// <summary>Passes over every layer shape, each with new inputs (fewer when <see cref="TimeBudget"/> runs out first).</summary>
    public const int Repetitions = 40;

    /// <summary>After this long (and at least <see cref="MinimumRepetitions"/> passes) the check stops repeating.</summary>
    public static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(5);

    /// <summary>Passes made whatever the time.</summary>
    public const int MinimumRepetitions = 5;

    /// <summary>What the check found.</summary>
    /// <param name="Exact">Whether every case was within <see cref="Tolerance"/>.</param>
    /// <param name="Cases">Layer shapes checked.</param>
    /// <param name="Passes">Passes made over them (the check stops at the first failure).</param>
    /// <param name="WorstError">The largest relative error seen (NaN counts as infinite).</param>
    /// <param name="Worst">The case and quantity of the largest error, for the log.</param>
    public sealed record Result(bool Exact, int Cases, int Passes, double WorstError, string Worst)
    {
        /// <summary>One line for the training log.</summary>
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Cases} layer shapes × {Passes} passes, worst relative error {WorstError:G3} ({Worst}) against float64, tolerance {Tolerance:G3}");
    }

    /// <summary>Checks the native kernels on <paramref name="model"/>'s layers at batch <paramref name="batch"/>.</summary>
    public static Result Run(ModelConfig model, int batch, bool secondDerivatives)
    {
        var state = TorchRandomState.Save();
        var wasNative = NativeConvolutions.Enabled;
        try
        {
            var cases = Survey(model, Math.Clamp(batch, 1, 4));
            using var random = new torch.Generator(20261201);
            var worst = (Error: 0.0, Where: "none");
            var started = System.Diagnostics.Stopwatch.StartNew();
            var passes = 0;
            for (var repetition = 0; repetition < Repetitions && (repetition < MinimumRepetitions || started.Elapsed < TimeBudget); repetition++)
            {
                passes++;
                foreach (var layer in cases)
                {
                    foreach (var (what, error) in Compare(layer, random, secondDerivatives))
                    {
                        var e = double.IsNaN(error) ? double.PositiveInfinity : error;
                        if (e > worst.Error) worst = (e, $"{layer} {what}{(repetition > 0 ? $", pass {repetition + 1}" : "")}");
                        if (e > Tolerance) return new Result(false, cases.Count, passes, worst.Error, worst.Where);
                    }
                }
            }
            return new Result(true, cases.Count, passes, worst.Error, worst.Where);
        }
        finally
        {
            NativeConvolutions.Enabled = wasNative;
            TorchRandomState.Restore(state);
        }
    }

    /// <summary>A convolution layer at the input shape it sees.</summary>
    private sealed record Layer(bool Transposed, long[] InputShape, long Out, long Kernel, long Stride, long Padding, long OutputPadding)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{(Transposed ? "ConvTranspose2d" : "Conv2d")} {InputShape[1]}→{Out} k{Kernel} s{Stride} p{Padding} on [{string.Join(",", InputShape)}]");
    }

    /// <summary>The distinct layers of the model's generator and discriminator, found by one forward pass of each.</summary>
    private static List<Layer> Survey(ModelConfig model, int batch)
    {
        var layers = new List<Layer>();
        NativeConvolutions.ShapeObserver = (module, shape) =>
        {
            Layer layer = module switch
            {
                VerifiedConvTranspose2d t => new(true, shape, t.OutChannels, t.KernelSize, t.Stride, t.Padding, t.OutputPadding),
                VerifiedConv2d c => new(false, shape, c.Weight.shape[0], c.Weight.shape[2], c.Stride, c.Padding, 0),
                _ => throw new InvalidOperationException($"unexpected layer {module.GetType().Name}"),
            };
            if (!layers.Any(l => l with { InputShape = [] } == layer with { InputShape = [] } && l.InputShape.SequenceEqual(layer.InputShape))) layers.Add(layer);
        };
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            NativeConvolutions.Enabled = false;
            using var generator = new Generator(model);
            using var discriminator = new Discriminator(model);
            generator.eval();
            discriminator.eval();
            var z = randn(batch, model.LatentDim);
            var labels = model.DiscriminatorClasses > 0 ? zeros(batch, dtype: ScalarType.Int64) : null;
            var images = generator.forward(z, model.NumClasses > 0 ? labels : null);
            discriminator.forward(images, labels);
        }
        finally
        {
            NativeConvolutions.ShapeObserver = null;
        }
        return layers;
    }

    /// <summary>Relative errors of the float32 native kernel against float64: forward, input gradient, second derivative.</summary>
    private static List<(string What, double Error)> Compare(Layer layer, torch.Generator random, bool secondDerivatives)
    {
        using var scope = NewDisposeScope();
        var inChannels = layer.InputShape[1];
        long[] weightShape = layer.Transposed ? [inChannels, layer.Out, layer.Kernel, layer.Kernel] : [layer.Out, inChannels, layer.Kernel, layer.Kernel];
        var fan = inChannels * layer.Kernel * layer.Kernel;
        var x64 = randn(layer.InputShape, dtype: ScalarType.Float64, generator: random);
        var w64 = randn(weightShape, dtype: ScalarType.Float64, generator: random).div_(Math.Sqrt(fan));
        var b64 = randn(layer.Out, dtype: ScalarType.Float64, generator: random);

        var results = new List<(string, double)>();
        Tensor Run(Tensor x, Tensor w, Tensor b) => layer.Transposed
            ? NativeConvolutions.ConvTranspose2d(x, w, b, layer.Stride, layer.Padding, layer.OutputPadding)
            : NativeConvolutions.Conv2d(x, w, b, layer.Stride, layer.Padding);

        var (x32, w32, b32) = (x64.to_type(ScalarType.Float32).requires_grad_(true), w64.to_type(ScalarType.Float32).requires_grad_(true), b64.to_type(ScalarType.Float32));
        x64.requires_grad_(true);
        w64.requires_grad_(true);
        var y64 = Run(x64, w64, b64);
        var y32 = Run(x32, w32, b32);
        results.Add(("forward", Relative(y32, y64)));
        using (no_grad())
        {
            var again = Run(x32.detach(), w32.detach(), b32);
            results.Add(("forward run twice", again.eq(y32.detach()).all().item<bool>() ? 0 : double.PositiveInfinity));
        }

        var g64 = randn(y64.shape, dtype: ScalarType.Float64, generator: random);
        var g32 = g64.to_type(ScalarType.Float32);
        var gx64 = autograd.grad([y64], [x64], [g64], create_graph: secondDerivatives)[0];
        var gx32 = autograd.grad([y32], [x32], [g32], create_graph: secondDerivatives, retain_graph: true)[0];
        results.Add(("input gradient", Relative(gx32, gx64)));
        var gxAgain = autograd.grad([y32], [x32], [g32], retain_graph: secondDerivatives)[0];
        results.Add(("input gradient run twice", gxAgain.eq(gx32.detach()).all().item<bool>() ? 0 : double.PositiveInfinity));

        if (secondDerivatives)
        {
            var h64 = randn(gx64.shape, dtype: ScalarType.Float64, generator: random);
            var h32 = h64.to_type(ScalarType.Float32);
            var gw64 = autograd.grad([(gx64 * h64).sum()], [w64])[0];
            var gw32 = autograd.grad([(gx32 * h32).sum()], [w32])[0];
            results.Add(("second derivative", Relative(gw32, gw64)));
        }
        return results;
    }

    private static double Relative(Tensor a32, Tensor b64)
    {
        using var scope = NewDisposeScope();
        var reference = b64.abs().max().item<double>();
        var difference = (a32.to_type(ScalarType.Float64) - b64).abs().max().item<double>();
        return difference / Math.Max(reference, 1e-12);
    }
}
