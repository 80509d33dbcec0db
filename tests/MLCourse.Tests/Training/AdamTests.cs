using MLCourse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Training;

/// <summary>Counting objects left to the finalizer needs a quiet process: no other test may run meanwhile.</summary>
[CollectionDefinition(nameof(FinalizerCounting), DisableParallelization = true)]
public sealed class FinalizerCounting;

[Collection(nameof(FinalizerCounting))]
public class AdamTests
{
    internal static nn.Module<Tensor, Tensor> Net(int seed)
    {
        torch.manual_seed(seed);
        return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3));
    }

    internal static void Train(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, int steps)
    {
        var lossFunction = nn.CrossEntropyLoss();
        torch.manual_seed(123);
        var X = torch.randn(32, 8);
        var y = torch.randint(0, 3, [32], dtype: ScalarType.Int64);
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = lossFunction.call(net.call(X), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
    }

    [Fact]
    public void Takes_the_same_steps_as_TorchSharps_Adam()
    {
        var ours = Net(7);
        var theirs = Net(7);
        using var adam = new Adam(ours.parameters(), lr: 0.01);
        Train(ours, adam, steps: 50);
        Train(theirs, optim.Adam(theirs.parameters(), lr: 0.01), steps: 50);
        AssertSameParameters(ours, theirs, rtol: 1e-4, atol: 1e-6);
        Assert.Equal(50, adam.Steps);
    }

    /// <summary>What the chapters rely on: with <c>fused: false</c> their figures are those of <c>torch.optim.Adam</c>.</summary>
    [Theory]
    [InlineData(1e-3, 0.9, 0.999)]
    [InlineData(2e-4, 0.5, 0.999)]
    [InlineData(3e-2, 0.5, 0.9)]
    public void Unfused_it_takes_TorchSharps_Adam_steps_bit_for_bit(double lr, double beta1, double beta2)
    {
        var ours = Net(7);
        var theirs = Net(7);
        using var adam = new Adam(ours.parameters(), lr, beta1, beta2, fused: false);
        Train(ours, adam, steps: 100);
        Train(theirs, optim.Adam(theirs.parameters(), lr, beta1, beta2), steps: 100);
        AssertSameParameters(ours, theirs, rtol: 0, atol: 0);
    }

    /// <summary>100 steps, the learning rate halved by a <c>StepLR</c> every 25 (a factor cached at the start would show).</summary>
    private static void TrainScheduled(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer)
    {
        var scheduler = optim.lr_scheduler.StepLR(optimizer, step_size: 1, gamma: 0.5);
        for (int round = 0; round < 4; round++)
        {
            Train(net, optimizer, steps: 25);
            scheduler.step();
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(0.3)]
    public void AdamW_unfused_takes_TorchSharps_AdamW_steps_bit_for_bit_and_fused_the_same_steps(double weightDecay)
    {
        var ours = Net(7);
        var theirs = Net(7);
        var fusedNet = Net(7);
        var flatNet = Net(7);
        using var adamW = new AdamW(ours.parameters(), 0.01, weight_decay: weightDecay, fused: false);
        using var fused = new AdamW(fusedNet.parameters(), 0.01, weight_decay: weightDecay);
        using var flat = new AdamW(flatNet.parameters(), 0.01, weight_decay: weightDecay, flatten: true, fused: false);
        TrainScheduled(ours, adamW);
        TrainScheduled(theirs, optim.AdamW(theirs.parameters(), 0.01, weight_decay: weightDecay));
        TrainScheduled(fusedNet, fused);
        TrainScheduled(flatNet, flat);
        AssertSameParameters(ours, theirs, rtol: 0, atol: 0);
        Assert.True(flat.IsFlat);
        AssertSameParameters(flatNet, ours, rtol: 1e-6, atol: 1e-7);   // whole-buffer operations: the same update
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
            Assert.True(fused.LastStepFused, $"libtorch's fused {(weightDecay == 0 ? "Adam" : "AdamW")} kernel was not found (Training/FusedAdamKernel.cs)");
        AssertSameParameters(fusedNet, ours, rtol: 1e-5, atol: 1e-6);
        if (weightDecay == 0) return;
        // and the decay is there: the same steps without it end elsewhere
        var plain = Net(7);
        using var plainAdam = new Adam(plain.parameters(), 0.01, fused: false);
        TrainScheduled(plain, plainAdam);
        Assert.False(plain.parameters().Zip(ours.parameters()).All(p => p.First.allclose(p.Second, rtol: 1e-3, atol: 1e-5)),
                     "AdamW's steps equal Adam's: the weight decay was not applied");
    }

    [Fact]
    public void Libtorchs_fused_kernel_takes_the_steps_of_the_tensor_operations()
    {
        var fusedNet = Net(7);
        var plainNet = Net(7);
        using var fused = new Adam(fusedNet.parameters(), lr: 0.01);
        using var plain = new Adam(plainNet.parameters(), lr: 0.01, fused: false);
        Train(fusedNet, fused, steps: 50);
        Train(plainNet, plain, steps: 50);
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
            Assert.True(fused.LastStepFused, "libtorch's fused Adam kernel was not found: a TorchSharp upgrade may have renamed it (Training/FusedAdamKernel.cs)");
        Assert.False(plain.LastStepFused);
        AssertSameParameters(fusedNet, plainNet, rtol: 1e-5, atol: 1e-6);
        Assert.All(fusedNet.parameters().Select(p => fused.StepsOf(p)), t => Assert.Equal(50L, t));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_parameter_changed_by_a_step_cannot_be_used_by_an_older_graph(bool fused)
    {
        torch.manual_seed(2);
        var layer = nn.Linear(3, 2);
        using var adam = new Adam(layer.parameters(), fused: fused);
        var x = torch.randn(4, 3).requires_grad_(true);
        layer.call(x).sum().backward();
        var older = layer.call(x).pow(2).sum();           // its backward needs the weight as it is now (for x's gradient)
        adam.step();
        Assert.Equal(fused && FusedAdamKernel.Available(0), adam.LastStepFused);
        var error = Assert.ThrowsAny<Exception>(() => older.backward());
        Assert.Contains("modified by an inplace operation", error.Message);
    }

    [Fact]
    public void A_parameter_the_fused_kernel_cannot_take_is_updated_as_before()
    {
        torch.manual_seed(3);
        var weight = new TorchSharp.Modules.Parameter(torch.randn(4, 3).t());   // a transposed view: not contiguous
        var twin = new TorchSharp.Modules.Parameter(weight.detach().clone());
        using var adam = new Adam([weight], lr: 0.05);
        using var reference = new Adam([twin], lr: 0.05, fused: false);
        var x = torch.randn(5, 3);
        foreach (var (p, optimizer) in new[] { (weight, adam), (twin, reference) })
            for (int i = 0; i < 10; i++)
            {
                optimizer.zero_grad();
                x.matmul(p).pow(2).sum().backward();
                optimizer.step();
            }
        Assert.False(adam.LastStepFused);
        Assert.True(weight.allclose(twin, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void The_flat_buffer_step_equals_the_per_parameter_step()
    {
        var flatNet = Net(7);
        var plainNet = Net(7);
        using var flat = new Adam(flatNet.parameters(), lr: 0.01, flatten: true);
        using var plain = new Adam(plainNet.parameters(), lr: 0.01);
        Assert.True(flat.IsFlat, "four float32 parameters on one device should share one buffer");
        Assert.False(plain.IsFlat);
        Train(flatNet, flat, steps: 50);
        Train(plainNet, plain, steps: 50);
        Assert.True(flat.IsFlat, "the parameters left the flat buffer during training");
        AssertSameParameters(flatNet, plainNet, rtol: 1e-6, atol: 1e-7);
        Assert.All(flatNet.parameters().Select(p => flat.StepsOf(p)), t => Assert.Equal(50L, t));
    }

    [Fact]
    public void A_parameter_moved_out_of_the_buffer_is_still_updated()
    {
        // Something replaces a parameter's storage after the optimizer was made (as moving a module to another device
        // can): the optimizer notices, updates parameter by parameter from then on, and takes the same steps.
        var flatNet = Net(3);
        var plainNet = Net(3);
        using var flat = new Adam(flatNet.parameters(), lr: 0.01, flatten: true);
        using var plain = new Adam(plainNet.parameters(), lr: 0.01);
        Train(flatNet, flat, steps: 5);
        Train(plainNet, plain, steps: 5);
        var moved = flatNet.parameters().First();
        using (torch.no_grad()) moved.set_(moved.detach().clone());
        Assert.False(flat.IsFlat);
        Train(flatNet, flat, steps: 5);
        Train(plainNet, plain, steps: 5);
        AssertSameParameters(flatNet, plainNet, rtol: 1e-6, atol: 1e-7);
    }

    [Fact]
    public void Gradients_zeroed_by_the_module_are_taken_back_into_the_buffer()
    {
        // net.zero_grad() may replace or drop the gradient tensors; the next step copies them back into the buffer.
        var flatNet = Net(5);
        var plainNet = Net(5);
        using var flat = new Adam(flatNet.parameters(), lr: 0.01, flatten: true);
        using var plain = new Adam(plainNet.parameters(), lr: 0.01);
        var lossFunction = nn.CrossEntropyLoss();
        torch.manual_seed(9);
        var X = torch.randn(16, 8);
        var y = torch.randint(0, 3, [16], dtype: ScalarType.Int64);
        foreach (var (net, adam) in new[] { (flatNet, flat), (plainNet, plain) })
            for (int i = 0; i < 6; i++)
            {
                using var scope = torch.NewDisposeScope();
                if (i % 2 == 0) net.zero_grad(); else adam.zero_grad();
                lossFunction.call(net.call(X), y).backward();
                adam.step();
            }
        Assert.True(flat.IsFlat);
        AssertSameParameters(flatNet, plainNet, rtol: 1e-6, atol: 1e-7);
    }

    [Fact]
    public void A_parameter_whose_first_gradient_comes_late_gets_PyTorchs_first_step()
    {
        // torch.optim.Adam counts steps per parameter (state["step"]): at a parameter's first update t = 1, so
        // m̂ = g and v̂ = g², and the documented update is θ ← θ − lr·g / (|g| + ε), whatever step the optimizer is at.
        const double lr = 0.1;
        var early = nn.Parameter(torch.tensor(new[] { 1.0f, -2.0f }));
        var late = nn.Parameter(torch.tensor(new[] { 0.5f, 3.0f }));
        using var adam = new Adam([early, late], lr: lr);
        for (int i = 0; i < 3; i++)                                   // three steps in which only `early` has a gradient
        {
            using var scope = torch.NewDisposeScope();
            adam.zero_grad();
            early.pow(2).sum().backward();
            adam.step();
        }
        var before = late.detach().clone();
        var g = torch.tensor(new[] { 0.3f, -4.0f });                  // d/dθ of (g·θ) is g
        adam.zero_grad();
        (late * g).sum().backward();
        adam.step();
        var expected = before - lr * g / (g.abs() + 1e-8);
        Assert.True(late.detach().allclose(expected, rtol: 1e-5, atol: 1e-6),
            $"late parameter after its first update: {Show(late)}, PyTorch's first step gives {Show(expected)}");
        Assert.Equal(4, adam.Steps);
    }

    [Fact]
    public void Each_parameter_counts_the_steps_at_which_it_had_a_gradient()
    {
        var early = nn.Parameter(torch.ones(2));
        var late = nn.Parameter(torch.ones(2));
        using var adam = new Adam([early, late]);
        for (int i = 0; i < 5; i++)
        {
            adam.zero_grad();
            (i < 3 ? early.sum() : (early + late).sum()).backward();
            adam.step();
        }
        Assert.Equal((5L, 5L, 2L), (adam.Steps, adam.StepsOf(early), adam.StepsOf(late)));
        Assert.Throws<ArgumentException>(() => adam.StepsOf(nn.Parameter(torch.ones(1))));
    }

    [Fact]
    public void TorchSharps_schedulers_drive_its_learning_rate()
    {
        var w = nn.Parameter(torch.ones(3));
        using var adam = new Adam([w], lr: 0.08);
        var scheduler = optim.lr_scheduler.StepLR(adam, step_size: 1, gamma: 0.5);
        Assert.Single(adam.ParamGroups);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            adam.zero_grad();
            w.sum().backward();
            adam.step();
            scheduler.step();
        }
        Assert.Equal(0.01, adam.LearningRate, 12);                    // 0.08 · 0.5³
        Assert.Equal(0.01, adam.ParamGroups.Single().LearningRate, 12);
    }

    internal static void AssertSameParameters(nn.Module<Tensor, Tensor> left, nn.Module<Tensor, Tensor> right, double rtol, double atol)
    {
        foreach (var (a, b) in left.parameters().Zip(right.parameters()))
            Assert.True(a.allclose(b, rtol: rtol, atol: atol), $"parameters differ by up to {(a - b).abs().max().item<float>()}");
    }

    private static string Show(Tensor t) => "[" + string.Join(", ", t.detach().data<float>().ToArray().Select(v => v.ToString("G6"))) + "]";

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void A_step_leaves_nothing_for_the_finalizer_while_TorchSharps_Adam_leaves_native_scalars(bool adamW, bool fused)
    {
        const int steps = 200;
        var ours = Net(1);
        using var adam = adamW ? new AdamW(ours.parameters(), fused: fused) : new Adam(ours.parameters(), fused: fused);
        Train(ours, adam, 5);                       // moment buffers and first-use allocations
        long oursLeft = LeftForFinalizer(() => Train(ours, adam, steps));

        var theirs = Net(1);
        var stock = optim.Adam(theirs.parameters());
        Train(theirs, stock, 5);
        long theirsLeft = LeftForFinalizer(() => Train(theirs, stock, steps));

        // 4 parameters: a leak of even one native object per parameter and step would be 800 objects.
        Assert.True(oursLeft < steps, $"{oursLeft} objects were left to the finalizer after {steps} steps of MLCourse.Training.Adam");
        // The measurement itself works: TorchSharp 0.107's Adam leaves several Scalars per parameter and step.
        Assert.True(theirsLeft > 4 * steps, $"expected TorchSharp's Adam to leave > {4 * steps} objects, found {theirsLeft}");
    }

    [SkippableFact]
    public void Does_not_grow_the_resident_memory()
    {
        var net = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10));
        using var adam = new Adam(net.parameters());
        var lossFunction = nn.CrossEntropyLoss();
        var X = torch.randn(64, 256);
        var y = torch.randint(0, 10, [64], dtype: ScalarType.Int64);
        void Steps(int n)
        {
            for (int i = 0; i < n; i++)
            {
                using var scope = torch.NewDisposeScope();
                var loss = lossFunction.call(net.call(X), y);
                adam.zero_grad();
                loss.backward();
                adam.step();
            }
        }
        Steps(200);
        double before = Rss.Megabytes();
        Steps(3000);
        double after = Rss.Megabytes();
        Skip.If(double.IsNaN(before), "no /proc/self/status on this platform");
        Assert.True(after - before < 20, $"resident memory grew from {before:0} MB to {after:0} MB over 3000 steps");
    }

    /// <summary>How many objects created by <paramref name="action"/> became garbage without being disposed.</summary>
    internal static long LeftForFinalizer(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        action();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        long pending = GC.GetGCMemoryInfo(GCKind.FullBlocking).FinalizationPendingCount;
        GC.WaitForPendingFinalizers();
        return pending;
    }
}

internal static class Rss
{
    public static double Megabytes()
    {
        if (!File.Exists("/proc/self/status")) return double.NaN;
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
