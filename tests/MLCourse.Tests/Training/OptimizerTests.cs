using MLCourse.Training;
using TorchSharp;
using static TorchSharp.torch;
using static MLCourse.Tests.Training.AdamTests;

namespace MLCourse.Tests.Training;

/// <summary>The course's SGD and Adagrad: TorchSharp's updates bit for bit, without native objects left per step.</summary>
[Collection(nameof(FinalizerCounting))]
public class OptimizerTests
{
    /// <summary>Trains both nets the same way, halving the rate through <c>ParamGroups</c> halfway, as chapter 16's schedule does.</summary>
    private static void TrainWithSchedule(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer)
    {
        Train(net, optimizer, 30);
        foreach (var group in optimizer.ParamGroups) group.LearningRate /= 2;
        Train(net, optimizer, 30);
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, false)]
    [InlineData(0.05, 0.9, 0.0, 0.0, false)]
    [InlineData(0.05, 0.9, 0.1, 0.0, false)]
    [InlineData(0.05, 0.9, 0.0, 0.01, true)]
    [InlineData(0.1, 0.0, 0.0, 0.05, false)]
    public void SGD_takes_TorchSharps_steps_bit_for_bit(double lr, double momentum, double dampening, double weightDecay, bool nesterov)
    {
        var ours = Net(3);
        var theirs = Net(3);
        using var sgd = new SGD(ours.parameters(), lr, momentum, dampening, weightDecay, nesterov);
        TrainWithSchedule(ours, sgd);
        TrainWithSchedule(theirs, optim.SGD(theirs.parameters(), lr, momentum, dampening, weightDecay, nesterov));
        AssertSameParameters(ours, theirs, rtol: 0, atol: 0);
        Assert.Equal(lr / 2, sgd.LearningRate, 12);
        // and it trains: the same steps without momentum (or with other settings) end elsewhere
        var plain = Net(3);
        TrainWithSchedule(plain, new SGD(plain.parameters(), lr / 3));
        Assert.False(plain.parameters().Zip(ours.parameters()).All(p => p.First.allclose(p.Second, rtol: 1e-3, atol: 1e-5)));
    }

    [Theory]
    [InlineData(0.01, 0.0, 0.0, 0.0)]
    [InlineData(0.1, 0.01, 0.0, 0.0)]
    [InlineData(0.05, 0.0, 0.02, 0.1)]
    public void Adagrad_takes_TorchSharps_steps_bit_for_bit(double lr, double lrDecay, double weightDecay, double initial)
    {
        var ours = Net(4);
        var theirs = Net(4);
        using var adagrad = new Adagrad(ours.parameters(), lr, lrDecay, weightDecay, initial);
        TrainWithSchedule(ours, adagrad);
        TrainWithSchedule(theirs, optim.Adagrad(theirs.parameters(), lr, lrDecay, weightDecay, initial));
        AssertSameParameters(ours, theirs, rtol: 0, atol: 0);
        var other = Net(4);
        TrainWithSchedule(other, new Adagrad(other.parameters(), lr * 3, lrDecay, weightDecay, initial));
        Assert.False(other.parameters().Zip(ours.parameters()).All(p => p.First.allclose(p.Second, rtol: 1e-3, atol: 1e-5)));
    }

    [Fact]
    public void A_step_leaves_nothing_for_the_finalizer_while_TorchSharps_optimizers_leave_native_scalars()
    {
        const int steps = 200;
        foreach (var (name, ours, theirs) in new (string, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer>,
                                                  Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer>)[]
                 {
                     ("SGD", ps => new SGD(ps, 0.01, momentum: 0.9), ps => optim.SGD(ps, 0.01, momentum: 0.9)),
                     ("Adagrad", ps => new Adagrad(ps, 0.01), ps => optim.Adagrad(ps, 0.01)),
                 })
        {
            var net = Net(1);
            var optimizer = ours(net.parameters());
            Train(net, optimizer, 5);                     // buffers and first-use allocations
            long oursLeft = LeftForFinalizer(() => Train(net, optimizer, steps));
            var stockNet = Net(1);
            var stock = theirs(stockNet.parameters());
            Train(stockNet, stock, 5);
            long theirsLeft = LeftForFinalizer(() => Train(stockNet, stock, steps));
            // 4 parameters: one native object per parameter and step would be 800.
            Assert.True(oursLeft < steps, $"{oursLeft} objects were left to the finalizer after {steps} steps of the course's {name}");
            Assert.True(theirsLeft > 2 * steps, $"expected TorchSharp's {name} to leave > {2 * steps} objects, found {theirsLeft}");
            optimizer.Dispose();
        }
    }

    [Fact]
    public void Nesterov_without_momentum_and_negative_rates_are_refused()
    {
        var w = nn.Parameter(torch.ones(3));
        Assert.Throws<ArgumentException>(() => new SGD([w], 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD([w], -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([w], -0.1));
    }
}
