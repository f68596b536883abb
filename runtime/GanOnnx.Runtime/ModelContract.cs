using System.Globalization;
using System.Text.Json;

namespace GanOnnx.Runtime;

/// <summary>
/// What a generator model promises: its latent input, its image output and its provenance. Read from the
/// model's <c>metadata_props</c> (see <see cref="ModelMetadataKeys"/>) or, for a model without them, from its
/// input and output shapes.
/// </summary>
public sealed record ModelContract
{
    /// <summary>Name of the latent input (normally "z").</summary>
    public required string LatentInputName { get; init; }
    /// <summary>Name of the class-label input of a conditional model, or null.</summary>
    public string? LabelInputName { get; init; }
    /// <summary>Name of the image output (normally "image").</summary>
    public required string ImageOutputName { get; init; }
    /// <summary>Length of one latent vector.</summary>
    public required int LatentDim { get; init; }
    /// <summary>Distribution of the latent components.</summary>
    public LatentDistribution LatentDistribution { get; init; } = LatentDistribution.Normal;
    /// <summary>Range of the output values.</summary>
    public ValueRange ValueRange { get; init; } = ValueRange.Tanh;
    /// <summary>Output channels: 1 (grayscale) or 3 (RGB).</summary>
    public required int Channels { get; init; }
    /// <summary>Output height in pixels.</summary>
    public required int Height { get; init; }
    /// <summary>Output width in pixels.</summary>
    public required int Width { get; init; }
    /// <summary>Number of classes; 0 for an unconditional model.</summary>
    public int NumClasses { get; init; }
    /// <summary>
    /// Latent classes of an unconditional model: the latent's first value selects one of them (0 = none). The sampler
    /// then leaves that value out of truncation, which would otherwise skew the mix of classes towards the middle ones.
    /// </summary>
    public int LatentClasses { get; init; }
    /// <summary>
    /// The K − 1 thresholds of the latent classes (<see cref="LatentClassRule"/>); empty without latent classes, with one,
    /// or when the model predates the <see cref="ModelMetadataKeys.LatentClassThresholds"/> key.
    /// </summary>
    public IReadOnlyList<float> LatentClassThresholds { get; init; } = [];
    /// <summary>
    /// How many leading latent values the sampler leaves out of truncation: those that select a latent class or a
    /// cluster within a class (<see cref="ModelMetadataKeys.UntruncatedLatents"/>; at least 1 with latent classes).
    /// </summary>
    public int UntruncatedLatents { get; init; }
    /// <summary>Whether a latent class can be asked for (the model has latent classes and, for more than one, their thresholds).</summary>
    public bool CanRequestLatentClass => LatentClasses == 1 || (LatentClasses > 1 && LatentClassThresholds.Count == LatentClasses - 1);
    /// <summary>Names of the classes (empty when unknown or unconditional).</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>The index of the class named <paramref name="name"/> (case-insensitive), or null when no class has that name.</summary>
    public int? FindClass(string name)
    {
        for (var i = 0; i < ClassNames.Count; i++)
            if (string.Equals(ClassNames[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return null;
    }
    /// <summary>
    /// A class as a person writes it: an index ("3"; not range-checked here, see <c>GeneratorSession.DescribeClassProblem</c>)
    /// or a class name in any case ("ankle boot"); null when <paramref name="text"/> is neither.
    /// </summary>
    public int? ParseClass(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        return int.TryParse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) ? index : FindClass(trimmed);
    }
    /// <summary>Architecture name, when the metadata gives it.</summary>
    public string? Architecture { get; init; }
    /// <summary>Training loss, when the metadata gives it.</summary>
    public string? Loss { get; init; }
    /// <summary>Training dataset, when the metadata gives it.</summary>
    public string? Dataset { get; init; }
    /// <summary>Generator steps trained, when the metadata gives it.</summary>
    public long? TrainingSteps { get; init; }
    /// <summary>Whether the weights are an exponential moving average.</summary>
    public bool IsEma { get; init; }
    /// <summary>Measured quality scores by name (empty when none were measured).</summary>
    public IReadOnlyDictionary<string, double> Quality { get; init; } = new Dictionary<string, double>();
    /// <summary>
    /// The batch size the model's graph is fixed to (a generator exported without a symbolic batch dimension, as
    /// <c>torch.onnx.export</c> writes it without <c>dynamic_axes</c>), or null when the batch is symbolic. The runtime then
    /// runs that many images per call and keeps the ones asked for.
    /// </summary>
    public int? FixedBatchSize { get; init; }
    /// <summary>True when the model had no contract metadata and this contract was inferred from its shapes.</summary>
    public bool InferredFromShapes { get; init; }

    /// <summary>Whether the model takes class labels.</summary>
    public bool IsConditional => NumClasses > 0;

    /// <summary>Number of floats in one image (channels × height × width).</summary>
    public int ValuesPerImage => Channels * Height * Width;

    /// <summary>
    /// Builds the contract from a model's declared inputs, outputs and metadata, refusing a model whose shapes do not
    /// fit a generator or contradict its metadata. <paramref name="source"/> names the model in messages.
    /// </summary>
    public static ModelContract Create(
        string source,
        IReadOnlyList<TensorDescription> inputs,
        IReadOnlyList<TensorDescription> outputs,
        IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(metadata);

        var latent = inputs.Where(i => i.ElementType == typeof(float)).ToList();
        if (latent.Count != 1 || latent[0].Shape.Length != 2)
            throw Refuse(source, $"a generator has exactly one float32 input of shape [batch, latent_dim]; this model has inputs {Describe(inputs)}");
        var z = latent[0];
        var latentDim = z.Shape[1];
        if (latentDim <= 0)
            throw Refuse(source, $"the latent input '{z.Name}' must have a fixed size in its second dimension; it is {Describe(z)}");

        var labels = inputs.Where(i => i != z).ToList();
        if (labels.Count > 1 || (labels.Count == 1 && (labels[0].ElementType != typeof(long) || labels[0].Shape.Length != 1)))
            throw Refuse(source, $"besides the latent input a generator may only have one int64 label input of shape [batch]; this model has inputs {Describe(inputs)}");
        var label = labels.Count == 1 ? labels[0] : null;

        if (outputs.Count != 1 || outputs[0].ElementType != typeof(float) || outputs[0].Shape.Length != 4)
            throw Refuse(source, $"a generator has one float32 output of shape [batch, channels, height, width]; this model has outputs {Describe(outputs)}");
        var image = outputs[0];
        int channels = image.Shape[1], height = image.Shape[2], width = image.Shape[3];
        if (channels is not (1 or 3) || height <= 0 || width <= 0)
            throw Refuse(source, $"the image output '{image.Name}' must have 1 or 3 channels and a fixed height and width; it is {Describe(image)}");
        var fixedBatches = inputs.Append(image).Select(t => t.Shape[0]).Where(d => d > 0).Distinct().ToList();
        if (fixedBatches.Count > 1)
            throw Refuse(source, $"its inputs and output fix different batch sizes: {Describe(inputs)}; {Describe(image)}");
        int? fixedBatch = fixedBatches.Count == 1 ? fixedBatches[0] : null;

        var hasContract = metadata.ContainsKey(ModelMetadataKeys.FormatVersion);
        if (!hasContract)
        {
            if (label is not null)
                throw Refuse(source, $"it is conditional (input '{label.Name}') but has no '{ModelMetadataKeys.NumClasses}' metadata to say how many classes it knows");
            return new ModelContract
            {
                LatentInputName = z.Name, ImageOutputName = image.Name, LatentDim = latentDim,
                Channels = channels, Height = height, Width = width, InferredFromShapes = true, FixedBatchSize = fixedBatch,
            };
        }

        var version = metadata[ModelMetadataKeys.FormatVersion];
        if (version != ModelMetadataKeys.CurrentFormatVersion)
            throw Refuse(source, $"its contract version is '{version}' but this runtime reads version {ModelMetadataKeys.CurrentFormatVersion}; update GanOnnx.Runtime");

        CheckAgrees(source, metadata, ModelMetadataKeys.LatentDim, latentDim);
        CheckAgrees(source, metadata, ModelMetadataKeys.Channels, channels);
        CheckAgrees(source, metadata, ModelMetadataKeys.Height, height);
        CheckAgrees(source, metadata, ModelMetadataKeys.Width, width);

        var numClasses = ReadInt(source, metadata, ModelMetadataKeys.NumClasses) ?? 0;
        if (numClasses < 0)
            throw Refuse(source, $"'{ModelMetadataKeys.NumClasses}' is {numClasses}; it must be 0 or more");
        if (numClasses > 0 && label is null)
            throw Refuse(source, $"its metadata says it has {numClasses} classes but it has no int64 label input");
        if (numClasses == 0 && label is not null)
            throw Refuse(source, $"it has a label input '{label.Name}' but its metadata says it has no classes");

        var latentClasses = ReadInt(source, metadata, ModelMetadataKeys.LatentClasses) ?? 0;
        if (latentClasses < 0 || latentClasses > latentDim)
            throw Refuse(source, $"'{ModelMetadataKeys.LatentClasses}' is {latentClasses}; it must be between 0 and the latent size {latentDim}");

        var thresholds = ReadJson<float[]>(source, metadata, ModelMetadataKeys.LatentClassThresholds) ?? [];
        if (thresholds.Length > 0 && thresholds.Length != latentClasses - 1)
            throw Refuse(source, $"'{ModelMetadataKeys.LatentClassThresholds}' has {thresholds.Length} values; {latentClasses} latent classes need {Math.Max(0, latentClasses - 1)}");
        for (var i = 0; i < thresholds.Length; i++)
        {
            if (!float.IsFinite(thresholds[i]) || (i > 0 && !(thresholds[i] > thresholds[i - 1])))
                throw Refuse(source, $"'{ModelMetadataKeys.LatentClassThresholds}' must be finite and increasing; value {i} is {thresholds[i].ToString(CultureInfo.InvariantCulture)}");
        }

        var untruncated = ReadInt(source, metadata, ModelMetadataKeys.UntruncatedLatents) ?? 0;
        if (untruncated < 0 || untruncated > latentDim)
            throw Refuse(source, $"'{ModelMetadataKeys.UntruncatedLatents}' is {untruncated}; it must be between 0 and the latent size {latentDim}");

        var distribution = LatentDistribution.Normal;
        if (metadata.TryGetValue(ModelMetadataKeys.LatentDistribution, out var dist) && !ModelMetadataKeys.TryParse(dist, out distribution))
            throw Refuse(source, $"'{ModelMetadataKeys.LatentDistribution}' is '{dist}'; it must be 'normal' or 'uniform'");

        var range = ValueRange.Tanh;
        if (metadata.TryGetValue(ModelMetadataKeys.ValueRange, out var rangeText) && !ValueRange.TryParse(rangeText, out range))
            throw Refuse(source, $"'{ModelMetadataKeys.ValueRange}' is '{rangeText}'; it must be 'min,max' with min < max, e.g. '-1,1'");

        var classNames = ReadJson<string[]>(source, metadata, ModelMetadataKeys.ClassNames) ?? [];
        if (classNames.Length != 0 && classNames.Length != numClasses)
            throw Refuse(source, $"it names {classNames.Length} classes but '{ModelMetadataKeys.NumClasses}' is {numClasses}");

        return new ModelContract
        {
            LatentInputName = z.Name,
            LabelInputName = label?.Name,
            ImageOutputName = image.Name,
            LatentDim = latentDim,
            LatentDistribution = distribution,
            ValueRange = range,
            Channels = channels,
            Height = height,
            Width = width,
            NumClasses = numClasses,
            LatentClasses = latentClasses,
            LatentClassThresholds = thresholds,
            UntruncatedLatents = Math.Max(untruncated, latentClasses > 0 ? 1 : 0),
            ClassNames = classNames,
            Architecture = metadata.GetValueOrDefault(ModelMetadataKeys.Architecture),
            Loss = metadata.GetValueOrDefault(ModelMetadataKeys.Loss),
            Dataset = metadata.GetValueOrDefault(ModelMetadataKeys.Dataset),
            TrainingSteps = ReadInt(source, metadata, ModelMetadataKeys.TrainingSteps),
            IsEma = metadata.GetValueOrDefault(ModelMetadataKeys.Ema) == "true",
            Quality = ReadJson<Dictionary<string, double>>(source, metadata, ModelMetadataKeys.Quality) ?? new Dictionary<string, double>(),
            FixedBatchSize = fixedBatch,
        };
    }

    private static void CheckAgrees(string source, IReadOnlyDictionary<string, string> metadata, string key, int actual)
    {
        var declared = ReadInt(source, metadata, key);
        if (declared is not null && declared != actual)
            throw Refuse(source, $"its metadata says {key} = {declared} but its shapes say {actual}");
    }

    private static int? ReadInt(string source, IReadOnlyDictionary<string, string> metadata, string key)
    {
        if (!metadata.TryGetValue(key, out var text)) return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw Refuse(source, $"'{key}' is '{text}', not a whole number");
        return value;
    }

    private static T? ReadJson<T>(string source, IReadOnlyDictionary<string, string> metadata, string key) where T : class
    {
        if (!metadata.TryGetValue(key, out var text)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(text);
        }
        catch (JsonException ex)
        {
            throw Refuse(source, $"'{key}' is not valid JSON of the expected form: {ex.Message}");
        }
    }

    private static GanOnnxException Refuse(string source, string why) =>
        new($"'{source}' is not a usable GanOnnx generator: {why}.");

    private static string Describe(IReadOnlyList<TensorDescription> tensors) =>
        tensors.Count == 0 ? "(none)" : string.Join(", ", tensors.Select(Describe));

    private static string Describe(TensorDescription t) =>
        $"{t.Name}: {t.ElementType.Name}[{string.Join(", ", t.Shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}]";
}
