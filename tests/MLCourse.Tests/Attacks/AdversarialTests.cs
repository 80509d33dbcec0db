using MLCourse.Attacks;
using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Attacks;

public class AdversarialTests
{
    static (Cnn net, Tensor x, Tensor y) SmallCnnAndImages()
    {
        torch.manual_seed(0);
        var net = new Cnn(new CnnConfig(ImageSize: 8, Channels: [4], Hidden: 8, Classes: 3));
        var x = torch.rand(16, 1, 8, 8);
        x[0] = torch.zeros(1, 8, 8);                                          // at the edges of [0, 1] the clip matters
        x[1] = torch.ones(1, 8, 8);
        var y = torch.arange(16) % 3;
        return (net, x, y);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    public void Fgsm_and_pgd_stay_within_epsilon_and_inside_the_unit_interval(double epsilon)
    {
        var (net, x, y) = SmallCnnAndImages();
        foreach (var adversarial in new[] { Adversarial.Fgsm(net, x, y, epsilon),
                                            Adversarial.Pgd(net, x, y, epsilon, stepSize: epsilon / 4, steps: 10),
                                            Adversarial.Pgd(net, x, y, epsilon, stepSize: epsilon / 4, steps: 10, targeted: true) })
        {
            Assert.Equal(x.shape, adversarial.shape);
            Assert.True((adversarial - x).abs().max().item<float>() <= epsilon + 1e-6);
            Assert.True(adversarial.min().item<float>() >= 0);
            Assert.True(adversarial.max().item<float>() <= 1);
            Assert.False(adversarial.requires_grad);
        }
    }

    [Fact]
    public void Fgsm_on_a_linear_model_moves_each_pixel_by_epsilon_along_the_sign_of_the_weights()
    {
        // Two classes, logits (0, w·x): for true class 0 the loss grows with w·x, so FGSM adds ε·sign(w);
        // the logit of class 1 then grows by exactly ε·‖w‖₁ (no pixel is clipped: x sits in the middle of [0, 1]).
        torch.manual_seed(1);
        var w = torch.randn(6);
        Tensor Model(Tensor images) => torch.stack([torch.zeros(images.shape[0]), images.reshape(images.shape[0], -1).matmul(w)], 1);
        var x = torch.full(4, 6, 0.5f);
        var y = torch.zeros(4, dtype: int64);
        const double epsilon = 0.1;
        var adversarial = Adversarial.Fgsm(Model, x, y, epsilon);
        Assert.True(torch.allclose(adversarial - x, epsilon * w.sign().expand(4, 6), atol: 1e-6));
        double gain = (Model(adversarial) - Model(x))[0, 1].item<float>();
        Assert.Equal(epsilon * w.abs().sum().item<float>(), gain, 4);

        var targeted = Adversarial.Fgsm(Model, x, torch.ones(4, dtype: int64), epsilon, targeted: true);   // towards class 1
        Assert.True(torch.allclose(targeted, adversarial, atol: 1e-6));
    }

    [Fact]
    public void Pgd_raises_the_loss_at_least_as_much_as_fgsm_and_a_targeted_attack_lowers_the_target_loss()
    {
        var (net, x, y) = SmallCnnAndImages();
        double Loss(Tensor images, Tensor labels) => torch.nn.functional.cross_entropy(net.call(images), labels).item<float>();
        double clean = Loss(x, y);
        double fgsm = Loss(Adversarial.Fgsm(net, x, y, 0.2), y);
        double pgd = Loss(Adversarial.Pgd(net, x, y, 0.2, stepSize: 0.05, steps: 20, randomStart: false), y);
        Assert.True(fgsm > clean);
        Assert.True(pgd >= fgsm - 1e-4);
        var target = torch.full(16, 2L, dtype: int64);
        Assert.True(Loss(Adversarial.Pgd(net, x, target, 0.2, 0.05, 20, targeted: true), target) < Loss(x, target));
    }
}
