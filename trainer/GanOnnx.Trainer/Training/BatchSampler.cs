using static TorchSharp.torch;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Draws batches of dataset indices: a fresh random permutation each epoch, from its own seeded generator. Its whole
/// state (generator, permutation, position) goes into checkpoints so that a resumed run sees the batches an uninterrupted
/// run would have. Owns tensors: dispose it.
/// </summary>
internal sealed class BatchSampler : IDisposable
{
    private readonly Generator _generator;
    private readonly long _count;
    private Tensor _permutation;
    private long _cursor;

    public BatchSampler(long count, long seed)
    {
        _count = count;
        _generator = new Generator(unchecked((ulong)seed) ^ 0x5DEECE66DUL);
        _permutation = randperm(count, generator: _generator);
    }

    /// <summary>The indices of the next batch (int64 [batch]); a new epoch starts when fewer than a batch remain.</summary>
    public Tensor Next(int batch)
    {
        if (_cursor + batch > _count)
        {
            _permutation.Dispose();
            _permutation = randperm(_count, generator: _generator).DetachFromDisposeScope();
            _cursor = 0;
        }
        var index = _permutation.narrow(0, _cursor, batch);
        _cursor += batch;
        return index;
    }

    /// <summary>Serializes the state: generator state, cursor, permutation.</summary>
    public byte[] SaveState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            var state = _generator.get_state().data<byte>().ToArray();
            writer.Write(state.Length);
            writer.Write(state);
            writer.Write(_cursor);
            var order = _permutation.data<long>().ToArray();
            writer.Write(order.Length);
            foreach (var i in order) writer.Write(i);
        }
        return stream.ToArray();
    }

    /// <summary>Restores a state written by <see cref="SaveState"/> for a dataset of the same size.</summary>
    public void LoadState(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var state = reader.ReadBytes(reader.ReadInt32());
        using (var stateTensor = tensor(state)) _generator.set_state(stateTensor);
        _cursor = reader.ReadInt64();
        var length = reader.ReadInt32();
        if (length != _count)
            throw new TrainerException($"The checkpoint's data order covers {length} images but the dataset has {_count}; resume with the dataset the run started with.");
        var order = new long[length];
        for (var i = 0; i < length; i++) order[i] = reader.ReadInt64();
        _permutation.Dispose();
        _permutation = tensor(order);
    }

    public void Dispose()
    {
        _permutation.Dispose();
        _generator.Dispose();
    }
}
