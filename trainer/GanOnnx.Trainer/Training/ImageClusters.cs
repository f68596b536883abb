using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// k-means clusters of a set of images, the pseudo-labels of a self-conditioned GAN
/// (<see cref="Models.ModelConfig.Clustered"/>): k-means++ seeding, then Lloyd iterations until no image changes cluster.
/// Images larger than 32 pixels are averaged down to 16×16 first; the clusters only need the coarse shape. Feature
/// vectors [N, D] (a trained discriminator's, <see cref="TrainingOptions.ClusterFeatures"/>) are clustered as they are.
/// Deterministic for a given seed on the CPU.
/// </summary>
public static class ImageClusters
{
    /// <summary>Images scored against the centres at a time, which bounds the memory of the distance matrix.</summary>
    private const int Chunk = 8192;

    /// <summary>The cluster of every image of <paramref name="images"/> [N, C, H, W] (or feature vector, [N, D]), int64 [N],
    /// and each cluster's share.</summary>
    public static (Tensor Assignments, double[] Shares) Assign(Tensor images, int clusters, long seed, int maxIterations = 50)
    {
        var count = images.shape[0];
        if (clusters < 2) throw new TrainerException($"ModelConfig.LatentClasses (clustered) is {clusters}; it needs at least 2.");
        if (count < clusters) throw new TrainerException($"ModelConfig.LatentClasses (clustered) is {clusters} but the dataset has only {count} images; use fewer clusters.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = images.to(CPU).to_type(ScalarType.Float32);
        if (x.dim() == 4 && (x.shape[2] > 32 || x.shape[3] > 32)) x = F.adaptive_avg_pool2d(x, [16, 16]);
        x = x.flatten(1).contiguous();
        var norms = x.square().sum(1);
        using var random = new Generator(unchecked((ulong)seed) ^ 0x9E3779B97F4A7C15UL);

        // k-means++: each next centre is an image drawn with probability proportional to its squared distance to the
        // nearest centre so far.
        var first = randint(0, count, [1], dtype: ScalarType.Int64, generator: random).item<long>();
        var chosen = new List<long> { first };
        var nearest = SquaredDistances(x, norms, x[first].unsqueeze(0)).squeeze(1);
        while (chosen.Count < clusters)
        {
            var weights = nearest.clamp_min(0);
            var next = weights.sum().item<float>() > 0
                ? multinomial(weights, 1, generator: random).item<long>()
                : randint(0, count, [1], dtype: ScalarType.Int64, generator: random).item<long>();
            chosen.Add(next);
            nearest = minimum(nearest, SquaredDistances(x, norms, x[next].unsqueeze(0)).squeeze(1));
        }
        var centres = x.index_select(0, tensor(chosen.ToArray()));

        Tensor assignments = Nearest(x, norms, centres).Index;
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            // New centres: the mean of each cluster; an empty one takes the image farthest from its own centre.
            var sums = zeros([clusters, x.shape[1]]).index_add_(0, assignments, x, 1);
            var sizes = bincount(assignments, null, clusters).to_type(ScalarType.Float32);
            centres = sums / sizes.clamp_min(1).unsqueeze(1);
            var empty = sizes.eq(0).nonzero().view(-1).data<long>().ToArray();
            if (empty.Length > 0)
            {
                var own = Nearest(x, norms, centres).Distance.clone();
                foreach (var e in empty)
                {
                    var far = own.argmax().item<long>();
                    centres[e] = x[far];
                    own[far] = -1;
                }
            }
            var updated = Nearest(x, norms, centres).Index;
            var changed = updated.ne(assignments).any().item<bool>();
            assignments = updated;
            if (!changed) break;
        }
        var counts = bincount(assignments, null, clusters).data<long>().ToArray();
        var shares = counts.Select(c => (double)c / count).ToArray();
        // Rounded shares must still sum to 1 exactly for the model's prior.
        var total = shares.Sum();
        for (var k = 0; k < shares.Length; k++) shares[k] /= total;
        return (assignments.MoveToOuterDisposeScope(), shares);
    }

    /// <summary>
    /// How well clusters follow known classes: the share of items whose cluster's most common class is their own
    /// (purity; 1 when every cluster holds one class). <paramref name="assignments"/> and <paramref name="labels"/> are
    /// int64 [N]. A diagnostic only: a self-conditioned run never reads the labels.
    /// </summary>
    public static double Purity(Tensor assignments, Tensor labels)
    {
        var clusters = assignments.data<long>().ToArray();
        var classes = labels.data<long>().ToArray();
        if (clusters.Length != classes.Length)
            throw new ArgumentException($"{clusters.Length} assignments but {classes.Length} labels.");
        if (clusters.Length == 0) return 0;
        var agreeing = clusters.Zip(classes).GroupBy(p => p.First)
            .Sum(cluster => cluster.GroupBy(p => p.Second).Max(c => c.Count()));
        return (double)agreeing / clusters.Length;
    }

    /// <summary>‖x − c‖² for every row of x [N, D] and centre c [K, D]: [N, K].</summary>
    private static Tensor SquaredDistances(Tensor x, Tensor norms, Tensor centres)
    {
        var parts = new List<Tensor>();
        var centreNorms = centres.square().sum(1);
        for (long start = 0; start < x.shape[0]; start += Chunk)
        {
            var length = Math.Min(Chunk, x.shape[0] - start);
            var rows = x.narrow(0, start, length);
            parts.Add(norms.narrow(0, start, length).unsqueeze(1) - 2 * rows.matmul(centres.t()) + centreNorms.unsqueeze(0));
        }
        return cat(parts, 0);
    }

    /// <summary>The nearest centre of every row and its squared distance.</summary>
    private static (Tensor Index, Tensor Distance) Nearest(Tensor x, Tensor norms, Tensor centres)
    {
        var (distance, index) = SquaredDistances(x, norms, centres).min(1);
        return (index, distance);
    }
}
