namespace GanOnnx.Runtime;

/// <summary>A model input or output as the model declares it. A symbolic dimension is -1.</summary>
/// <param name="Name">The tensor's name in the graph.</param>
/// <param name="ElementType">The element type (float for float32, long for int64).</param>
/// <param name="Shape">The dimensions; -1 where the dimension is symbolic (e.g. the batch).</param>
public sealed record TensorDescription(string Name, Type ElementType, int[] Shape);
