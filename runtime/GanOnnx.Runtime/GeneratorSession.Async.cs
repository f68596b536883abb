using System.Runtime.CompilerServices;

namespace GanOnnx.Runtime;

public sealed partial class GeneratorSession
{
    /// <summary>
    /// Streams images <paramref name="startIndex"/> … + <paramref name="count"/> − 1 of <paramref name="seed"/> as batches of
    /// at most <see cref="MaxBatchSize"/>, each generated on the thread pool. Arguments are checked when
    /// the method is called, not when enumeration starts; cancellation is checked between batches.
    /// </summary>
    public IAsyncEnumerable<ImageBatch> GenerateBatchesAsync(long count, long seed, long startIndex = 0, int? classIndex = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Guard.NonNegative(count);
        Guard.IndexRange(startIndex, count);
        CheckClass(classIndex);
        return Stream(count, seed, startIndex, classIndex, cancellationToken);

        async IAsyncEnumerable<ImageBatch> Stream(long total, long s, long first, int? l, [EnumeratorCancellation] CancellationToken ct)
        {
            for (long done = 0; done < total;)
            {
                ct.ThrowIfCancellationRequested();
                var n = (int)Math.Min(MaxBatchSize, total - done);
                var offset = first + done;
                yield return await Task.Run(() => Generate(n, s, offset, l), ct).ConfigureAwait(false);
                done += n;
            }
        }
    }
}
