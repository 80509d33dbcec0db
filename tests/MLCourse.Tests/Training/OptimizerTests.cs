using MLCourse.Training;
using TorchSharp;
using static TorchSharp.torch;
using static MLCourse.Tests.Training.AdamTests;

namespace MLCourse.Tests.Training;

/// <summary>The course's SGD, Adagrad and RMSProp: TorchSharp's updates bit for bit, without native objects left per step.</summary>
[Collection(nameof(FinalizerCounting))]
public class OptimizerTests
{
    /// <summary>Trains 30 steps, halves the rate through <c>ParamGroups</c> (the mechanism chapter 16's schedule uses), trains 30 more.</summary>
    private static void TrainWithSchedule(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer)
    {
        Train(net, optimizer, 30);
        foreach (var group in optimizer.ParamGroups) group.LearningRate /= 2;
        Train(net, optimizer, 30);
    }

    /// <summary>
    /// Trains two copies of one network, with the course's optimizer made by <paramref name="ours"/> (its rate given) and
    /// TorchSharp's by <paramref name="theirs"/>, and asserts equal bits and the halved rate; then shows the comparison can
    /// fail: the course's optimizer at three times the rate ends elsewhere.
    /// </summary>
    private static void AssertTakesTorchSharpsSteps(double lr, Func<IEnumerable<TorchSharp.Modules.Parameter>, double, CourseOptimizer> ours,
                                                    Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> theirs)
    {
        var (mine, stock, other) = (Net(3), Net(3), Net(3));
        using var course = ours(mine.parameters(), lr);
        TrainWithSchedule(mine, course);
        using var torchSharp = theirs(stock.parameters());
        TrainWithSchedule(stock, torchSharp);
        AssertSameParameters(mine, stock, rtol: 0, atol: 0);
        Assert.Equal(lr / 2, course.LearningRate, 12);
        using var faster = ours(other.parameters(), lr * 3);
        TrainWithSchedule(other, faster);
        Assert.False(other.parameters().Zip(mine.parameters()).All(p => p.First.allclose(p.Second, rtol: 1e-3, atol: 1e-5)));
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, false)]
    [InlineData(0.05, 0.9, 0.0, 0.0, false)]
    [InlineData(0.05, 0.9, 0.1, 0.0, false)]
    [InlineData(0.05, 0.9, 0.0, 0.01, true)]
    [InlineData(0.1, 0.0, 0.0, 0.05, false)]
    public void SGD_takes_TorchSharps_steps_bit_for_bit(double lr, double momentum, double dampening, double weightDecay, bool nesterov) =>
        AssertTakesTorchSharpsSteps(lr, (ps, rate) => new SGD(ps, rate, momentum, dampening, weightDecay, nesterov),
                                    ps => optim.SGD(ps, lr, momentum, dampening, weightDecay, nesterov));

    [Theory]
    [InlineData(0.01, 0.0, 0.0, 0.0, 1e-10)]
    [InlineData(0.1, 0.01, 0.0, 0.0, 1e-10)]
    [InlineData(0.05, 0.0, 0.02, 0.1, 1e-10)]
    [InlineData(0.05, 0.0, 0.0, 0.0, 1e-3)]
    public void Adagrad_takes_TorchSharps_steps_bit_for_bit(double lr, double lrDecay, double weightDecay, double initial, double eps) =>
        AssertTakesTorchSharpsSteps(lr, (ps, rate) => new Adagrad(ps, rate, lrDecay, weightDecay, initial, eps),
                                    ps => optim.Adagrad(ps, lr, lrDecay, weightDecay, initial, eps));

    [Theory]
    [InlineData(0.01, 0.99, 1e-8, 0.0, 0.0, false)]
    [InlineData(0.003, 0.9, 1e-6, 0.0, 0.9, false)]
    [InlineData(0.003, 0.95, 1e-8, 0.01, 0.0, true)]
    [InlineData(0.002, 0.99, 1e-8, 0.0, 0.5, true)]
    public void RMSProp_takes_TorchSharps_steps_bit_for_bit(double lr, double alpha, double eps, double weightDecay, double momentum,
                                                           bool centered) =>
        AssertTakesTorchSharpsSteps(lr, (ps, rate) => new RMSProp(ps, rate, alpha, eps, weightDecay, momentum, centered),
                                    ps => optim.RMSProp(ps, lr, alpha, eps, weightDecay, momentum, centered));

    /// <summary>
    /// A layer frozen for the first 10 steps has no gradient there: it must be skipped, start its momentum buffer at its
    /// first real gradient and count its own Adagrad steps (for lr_decay), as TorchSharp's optimizers do.
    /// </summary>
    [Theory]
    [InlineData("SGD")]
    [InlineData("Adagrad")]
    [InlineData("RMSProp")]
    public void A_parameter_without_a_gradient_is_skipped_and_counts_its_own_steps(string kind)
    {
        optim.Optimizer Make(IEnumerable<TorchSharp.Modules.Parameter> ps, bool course) => (kind, course) switch
        {
            ("SGD", true) => new SGD(ps, 0.05, momentum: 0.9, dampening: 0.1),
            ("SGD", false) => optim.SGD(ps, 0.05, momentum: 0.9, dampening: 0.1),
            ("RMSProp", true) => new RMSProp(ps, 0.005, momentum: 0.5, centered: true),
            ("RMSProp", false) => optim.RMSProp(ps, 0.005, momentum: 0.5, centered: true),
            (_, true) => new Adagrad(ps, 0.05, lr_decay: 0.05),
            _ => optim.Adagrad(ps, 0.05, lr_decay: 0.05),
        };
        var ours = Net(5);
        var theirs = Net(5);
        using var mine = Make(ours.parameters(), course: true);
        using var stock = Make(theirs.parameters(), course: false);
        foreach (var net in new[] { ours, theirs })
            foreach (var p in net.parameters().Take(2)) p.requires_grad_(false);            // the first layer, frozen
        Train(ours, mine, 10);
        Train(theirs, stock, 10);
        foreach (var net in new[] { ours, theirs })
            foreach (var p in net.parameters().Take(2)) p.requires_grad_(true);
        Train(ours, mine, 20);
        Train(theirs, stock, 20);
        AssertSameParameters(ours, theirs, rtol: 0, atol: 0);
    }

    [Fact]
    public void A_step_leaves_nothing_for_the_finalizer_while_TorchSharps_optimizers_leave_native_scalars()
    {
        const int steps = 200;
        foreach (var (name, ours, theirs) in new (string, Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer>,
                                                  Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer>)[]
                 {
                     ("SGD", ps => new SGD(ps, 0.01, momentum: 0.9), ps => optim.SGD(ps, 0.01, momentum: 0.9)),
                     ("SGD (Nesterov, weight decay)", ps => new SGD(ps, 0.01, momentum: 0.9, weight_decay: 0.01, nesterov: true),
                      ps => optim.SGD(ps, 0.01, momentum: 0.9, weight_decay: 0.01, nesterov: true)),
                     ("Adagrad", ps => new Adagrad(ps, 0.01), ps => optim.Adagrad(ps, 0.01)),
                     ("Adagrad (all options)", ps => new Adagrad(ps, 0.01, lr_decay: 0.01, weight_decay: 0.01, initial_accumulator_value: 0.1),
                      ps => optim.Adagrad(ps, 0.01, lr_decay: 0.01, weight_decay: 0.01, initial_accumulator_value: 0.1)),
                     ("RMSProp", ps => new RMSProp(ps, 0.001), ps => optim.RMSProp(ps, 0.001)),
                     ("RMSProp (centred, momentum, weight decay)", ps => new RMSProp(ps, 0.001, momentum: 0.5, centered: true, weight_decay: 0.01),
                      ps => optim.RMSProp(ps, 0.001, momentum: 0.5, centered: true, weight_decay: 0.01)),
                 })
        {
            var net = Net(1);
            optim.Optimizer? optimizer = null;
            // from construction on: the first steps create the buffers and sums, which must leave nothing behind either
            long oursLeft = LeftForFinalizer(() => { optimizer = ours(net.parameters()); Train(net, optimizer, steps); });
            var stockNet = Net(1);
            var stock = theirs(stockNet.parameters());
            Train(stockNet, stock, 5);
            long theirsLeft = LeftForFinalizer(() => Train(stockNet, stock, steps));
            // 4 parameters: one native object per parameter and step would be 800.
            Assert.True(oursLeft < steps, $"{oursLeft} objects were left to the finalizer after {steps} steps of the course's {name}");
            Assert.True(theirsLeft > 2 * steps, $"expected TorchSharp's {name} to leave > {2 * steps} objects, found {theirsLeft}");
            optimizer!.Dispose();
            stock.Dispose();
        }
    }

    [Fact]
    public void Invalid_arguments_are_refused()
    {
        var w = nn.Parameter(torch.ones(3));
        Assert.Throws<ArgumentException>(() => new SGD([w], 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD([w], -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([w], -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([w], 0.1, eps: -1e-10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([w], 0.1, lr_decay: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([w], 0.1, initial_accumulator_value: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSProp([w], -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSProp([w], 0.01, alpha: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSProp([w], 0.01, eps: -1e-8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSProp([w], 0.01, momentum: -0.1));
    }
}
