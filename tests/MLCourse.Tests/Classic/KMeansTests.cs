using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class KMeansTests
{
    [Fact]
    public void Steps_follow_the_hand_computation()
    {
        // points 0, 1, 9, 10 with initial centres 0 and 1:
        //   step 1: 0 → c0; 1, 9, 10 → c1; centres 0 and (1+9+10)/3 = 6.6667
        //   step 2: 0, 1 → c0; 9, 10 → c1; centres 0.5 and 9.5 (changed)
        //   step 3: same assignment → stable; inertia 4 · 0.5² = 1
        using var X = torch.tensor(new double[] { 0, 1, 9, 10 }).reshape(4, 1);
        var km = new KMeans(2).Initialize(X, torch.tensor(new double[] { 0, 1 }).reshape(2, 1));
        Assert.True(km.Step(X));
        Assert.Equal(new[] { 0.0, 20.0 / 3 }, km.Centers.data<double>().ToArray().Select(v => Math.Round(v, 12)).ToArray(), new ToleranceComparer(1e-9));
        Assert.True(km.Step(X));
        Assert.Equal(new[] { 0.5, 9.5 }, km.Centers.data<double>().ToArray());
        Assert.Equal(new long[] { 0, 0, 1, 1 }, km.Labels!.data<long>().ToArray());
        Assert.False(km.Step(X));
        Assert.True(km.Converged);
        Assert.Equal(3, km.Iterations);
        Assert.Equal(1.0, km.Inertia, 1e-12);
    }

    [Theory]
    [InlineData(KMeansInit.PlusPlus)]
    [InlineData(KMeansInit.Random)]
    public void Fit_recovers_well_separated_blobs(KMeansInit init)
    {
        var (X, y) = Synthetic.Blobs(3, 50, seed: 31, spread: 0.8);
        var km = new KMeans(3, init, seed: 4).Fit(X);
        Assert.True(km.Converged);
        var labels = km.Labels!.data<long>().ToArray();
        var truth = y.data<long>().ToArray();
        // every true blob lands in one cluster, and different blobs in different clusters
        var clusterOfBlob = Enumerable.Range(0, 3).Select(b => Enumerable.Range(0, truth.Length).Where(i => truth[i] == b).Select(i => labels[i]).Distinct().ToArray()).ToArray();
        Assert.All(clusterOfBlob, c => Assert.Single(c));
        Assert.Equal(3, clusterOfBlob.Select(c => c[0]).Distinct().Count());
        // each centre is within 0.5 of its blob's true centre
        for (int b = 0; b < 3; b++)
        {
            var centre = km.Centers[clusterOfBlob[b][0]].data<double>().ToArray();
            double distance = Math.Sqrt(Math.Pow(centre[0] - Synthetic.Centres[b][0], 2) + Math.Pow(centre[1] - Synthetic.Centres[b][1], 2));
            Assert.True(distance < 0.5, $"centre of blob {b} is {distance:F2} from the truth");
        }
    }

    [Fact]
    public void Centres_kept_from_earlier_steps_stay_readable_for_plotting_the_iterations()
    {
        var (X, _) = Synthetic.Blobs(3, 20, seed: 34, spread: 2.0);
        var km = new KMeans(3, KMeansInit.Random, seed: 2).Initialize(X);
        var history = new List<torch.Tensor> { km.Centers };
        while (km.Step(X)) history.Add(km.Centers);
        Assert.True(history.Count >= 2);
        Assert.All(history, c => Assert.Equal(new long[] { 3, 2 }, c.shape));
        Assert.False(history[0].allclose(history[^1]), "the centres never moved");
    }

    [Fact]
    public void Inertia_never_increases_from_step_to_step()
    {
        var (X, _) = Synthetic.Blobs(4, 40, seed: 32, spread: 3.0);
        var km = new KMeans(4, KMeansInit.Random, seed: 1).Initialize(X);
        double previous = double.PositiveInfinity;
        while (km.Step(X) && km.Iterations < 100)
        {
            Assert.True(km.Inertia <= previous + 1e-9, $"inertia rose from {previous} to {km.Inertia}");
            previous = km.Inertia;
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_clustering()
    {
        var (X, _) = Synthetic.Blobs(4, 30, seed: 33, spread: 3.0);
        var a = new KMeans(4, seed: 8).Fit(X);
        var b = new KMeans(4, seed: 8).Fit(X);
        Assert.True(a.Centers.allclose(b.Centers));
        using var assigned = a.Assign(X);
        Assert.True(assigned.eq(a.Labels!).all().item<bool>());
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
