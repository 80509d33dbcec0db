using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Attacks;

/// <summary>
/// White-box adversarial attacks (白箱攻击) under an L∞ budget ε on images in [0, 1]: the fast gradient sign method
/// (FGSM, 快速梯度符号法) and its iterative version, projected gradient descent (PGD / iterative FGSM). Each returns
/// the adversarial images x' with ‖x' − x‖∞ ≤ ε and 0 ≤ x' ≤ 1. The model is any function from images to logits, so
/// a defence can be attacked together with the network (a blur layer in front of it, for example).
/// Introduced in chapter 14 (adversarial attack).
/// </summary>
public static class Adversarial
{
    /// <summary>
    /// FGSM: one step x' = clip(x + ε·sign(∇ₓ L(f(x), y)), 0, 1) with the cross-entropy L. Untargeted it increases the
    /// loss of the true labels <paramref name="y"/>; with <paramref name="targeted"/> set, <paramref name="y"/> holds the
    /// target classes and the step goes down their loss instead (x − ε·sign(∇)).
    /// </summary>
    public static Tensor Fgsm(Func<Tensor, Tensor> model, Tensor x, Tensor y, double epsilon, bool targeted = false) =>
        Pgd(model, x, y, epsilon, stepSize: epsilon, steps: 1, randomStart: false, targeted: targeted);

    /// <summary>FGSM against a module (see the other overload).</summary>
    public static Tensor Fgsm(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, double epsilon, bool targeted = false) =>
        Fgsm(images => model.call(images), x, y, epsilon, targeted);

    /// <summary>
    /// Iterative FGSM / PGD: <paramref name="steps"/> signed-gradient steps of size <paramref name="stepSize"/>, each
    /// followed by a projection back into the ε-ball around x and into [0, 1]; with <paramref name="randomStart"/>
    /// it starts from a uniform random point of the ball (Madry et al.'s PGD), otherwise from x (iterative FGSM).
    /// </summary>
    public static Tensor Pgd(Func<Tensor, Tensor> model, Tensor x, Tensor y, double epsilon, double stepSize, int steps,
                             bool randomStart = true, bool targeted = false)
    {
        if (epsilon < 0) throw new ArgumentOutOfRangeException(nameof(epsilon), "The budget ε must not be negative.");
        using var outer = torch.NewDisposeScope();
        var clean = x.detach();
        var adversarial = randomStart ? (clean + torch.empty_like(clean).uniform_(-epsilon, epsilon)).clamp(0, 1) : clean.clone();
        for (int step = 0; step < steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var input = adversarial.detach().requires_grad_(true);
            var loss = torch.nn.functional.cross_entropy(model(input), y);
            var gradient = torch.autograd.grad([loss], [input])[0];
            using var noGrad = torch.no_grad();
            var moved = targeted ? input - stepSize * gradient.sign() : input + stepSize * gradient.sign();
            var projected = torch.minimum(torch.maximum(moved, clean - epsilon), clean + epsilon).clamp(0, 1);   // into the ε-ball and [0, 1]
            adversarial = projected.detach().MoveToOuterDisposeScope();
        }
        return adversarial.detach().MoveToOuterDisposeScope();
    }

    /// <summary>PGD against a module (see the other overload).</summary>
    public static Tensor Pgd(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, double epsilon, double stepSize, int steps,
                             bool randomStart = true, bool targeted = false) =>
        Pgd(images => model.call(images), x, y, epsilon, stepSize, steps, randomStart, targeted);
}
