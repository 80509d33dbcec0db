// Checks of hw-optimizers.q2, AdamStep (4 points). Compiled by the grader as a continuation of the student's notebook
// session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: torch.optim.Adam(params, lr, beta1, beta2, eps) (no weight decay, no AMSGrad), fed the same gradients.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-optimizers.q2", Points = 4)]
sealed class AdamCheck(Action<Tensor[], Tensor[], Tensor[], Tensor[], int, double, double, double, double> AdamStep) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("first step (bias correction at t = 1)", 1, () =>
        {
            var run = new Trial(grade, Shapes(grade), Draw(grade, 1e-3, 5e-2), 0.9, 0.999, 1e-8);
            run.Step(AdamStep, 1, gradientScale: 1);
            run.Compare("after step 1",
                "At t = 1, m̂ = g and v̂ = g², so every parameter moves by about lr: check the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ, "
                + "and update the parameter tensors you are given in place (sub_), not by putting new tensors into the arrays.");
        });

        grade.Part("ten steps with random β₁, β₂", 2, () =>
        {
            var run = new Trial(grade, Shapes(grade), Draw(grade, 1e-3, 5e-2), Draw(grade, 0.8, 0.95), Draw(grade, 0.99, 0.9999), 1e-8);
            for (int t = 1; t <= 10; t++)
            {
                run.Step(AdamStep, t, gradientScale: 1);
                run.Compare($"after step {t}",
                    "m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − lr·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); "
                    + "use the betas you are given and update m and v in place.");
            }
        });

        grade.Part("tiny gradients, large ε (ε outside the square root)", 1, () =>
        {
            var run = new Trial(grade, Shapes(grade), Draw(grade, 1e-2, 1e-1), 0.9, 0.999, 1e-3);
            for (int t = 1; t <= 3; t++)
            {
                run.Step(AdamStep, t, gradientScale: 1e-4);
                run.Compare($"after step {t} with gradients of size 1e-4 and ε = 1e-3",
                    "ε is added after the square root: θ ← θ − lr·m̂/(√v̂ + ε), not lr·m̂/√(v̂ + ε).");
            }
        });
    }

    private static double Draw(Grade grade, double lo, double hi) => Math.Round(lo + (hi - lo) * grade.Random.NextDouble(), 5);

    private static long[][] Shapes(Grade grade) =>
        [[grade.Random.Next(2, 7), grade.Random.Next(2, 7)], [grade.Random.Next(1, 9)], [grade.Random.Next(2, 5), grade.Random.Next(1, 4), 2]];

    /// <summary>The student's tensors and a TorchSharp Adam over copies of them, fed the same gradients.</summary>
    private sealed class Trial
    {
        private readonly Tensor[] parameters, m, v;
        private readonly TorchSharp.Modules.Parameter[] reference;
        private readonly optim.Optimizer optimizer;
        private readonly double lr, beta1, beta2, eps;

        /// <summary>The typical wrong Adam steps, run on the same gradients: a student whose parameters match one is told that mistake.</summary>
        private readonly List<(string Mistake, Flaw Flaw, Tensor[] P, Tensor[] M, Tensor[] V)> mistakes = [];

        public enum Flaw { NoBiasCorrection, EpsInsideRoot, UnscaledMoments, StateNotKept, NotInPlace, AbsNotSquare }

        public Trial(Grade grade, long[][] shapes, double lr, double beta1, double beta2, double eps)
        {
            (this.lr, this.beta1, this.beta2, this.eps) = (lr, beta1, beta2, eps);
            parameters = shapes.Select(s => torch.randn(s)).ToArray();
            m = parameters.Select(p => torch.zeros_like(p)).ToArray();
            v = parameters.Select(p => torch.zeros_like(p)).ToArray();
            reference = parameters.Select(p => new TorchSharp.Modules.Parameter(p.clone())).ToArray();
            optimizer = torch.optim.Adam(reference, lr, beta1, beta2, eps);
            void Add(string mistake, Flaw flaw) => mistakes.Add((mistake, flaw, parameters.Select(p => p.clone()).ToArray(),
                parameters.Select(p => torch.zeros_like(p)).ToArray(), parameters.Select(p => torch.zeros_like(p)).ToArray()));
            Add("there is no bias correction: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ before the update", Flaw.NoBiasCorrection);
            Add("ε is inside the square root: θ ← θ − lr·m̂/(√v̂ + ε)", Flaw.EpsInsideRoot);
            Add("the moments lack the (1 − β) factors: m ← β₁m + (1 − β₁)g and v ← β₂v + (1 − β₂)g²", Flaw.UnscaledMoments);
            Add("m and v are not carried from step to step: update the m[i] and v[i] tensors you are given in place (mul_, add_), "
                + "do not assign new tensors into the arrays", Flaw.StateNotKept);
            Add("the parameters did not change: assigning new tensors into the arrays (parameters[i] = …) does not reach the "
                + "caller's tensors; update them in place with sub_", Flaw.NotInPlace);
            Add("v averages |g|, not g²: v ← β₂v + (1 − β₂)g²", Flaw.AbsNotSquare);
        }

        private void Simulate(int t, Tensor[] gradients)
        {
            using var noGrad = torch.no_grad();
            foreach (var (_, flaw, P, M, V) in mistakes)
                for (int i = 0; i < gradients.Length; i++)
                {
                    if (flaw == Flaw.NotInPlace) continue;
                    var g = gradients[i];
                    var m = flaw == Flaw.StateNotKept ? torch.zeros_like(g) : M[i];
                    var v = flaw == Flaw.StateNotKept ? torch.zeros_like(g) : V[i];
                    m.mul_(beta1).add_(flaw == Flaw.UnscaledMoments ? g : (1 - beta1) * g);
                    var g2 = flaw == Flaw.AbsNotSquare ? g.abs() : g * g;
                    v.mul_(beta2).add_(flaw == Flaw.UnscaledMoments ? g2 : (1 - beta2) * g2);
                    var (mHat, vHat) = flaw == Flaw.NoBiasCorrection ? (m, v) : (m / (1 - Math.Pow(beta1, t)), v / (1 - Math.Pow(beta2, t)));
                    P[i].sub_(flaw == Flaw.EpsInsideRoot ? lr * mHat / (vHat + eps).sqrt() : lr * mHat / (vHat.sqrt() + eps));
                }
        }

        public void Step(Action<Tensor[], Tensor[], Tensor[], Tensor[], int, double, double, double, double> studentStep, int t, double gradientScale)
        {
            // Gradients of size at least 0.1 (times the scale): a gradient near zero makes v̂ tiny, and then where ε sits
            // shows in any part, not only in the part built for it (tiny gradients, large ε).
            var gradients = parameters.Select(p => { using var g = torch.randn_like(p); return g.sign() * (g.abs() + 0.1) * gradientScale; }).ToArray();
            // fresh arrays holding the same tensors: only updates in place reach the tensors compared below
            studentStep(parameters.ToArray(), gradients.Select(g => g.clone()).ToArray(), m.ToArray(), v.ToArray(), t, lr, beta1, beta2, eps);
            Simulate(t, gradients);
            optimizer.zero_grad();
            // the gradient of Σ θ ⊙ g with respect to θ is exactly g
            reference.Zip(gradients, (p, g) => (p * g).sum()).Aggregate((a, b) => a + b).backward();
            optimizer.step();
        }

        public void Compare(string when, string hint)
        {
            bool right = parameters.Zip(reference).All(x => torch.allclose(x.First, x.Second.detach(), rtol: 1e-4, atol: 1e-5));
            if (!right)
                foreach (var (mistake, _, P, _, _) in mistakes)
                    if (parameters.Zip(P).All(x => torch.allclose(x.First, x.Second, rtol: 1e-4, atol: 1e-5)))
                        Expect.Fail($"wrong step: your parameters {when} (lr = {lr:G3}, β₁ = {beta1:G4}, β₂ = {beta2:G6}, ε = {eps:G2}) "
                                    + $"are those of an Adam step where {mistake}.");
            for (int i = 0; i < parameters.Length; i++)
                Expect.Close(parameters[i], reference[i].detach(),
                    $"parameter {i} {when} (lr = {lr:G3}, β₁ = {beta1:G4}, β₂ = {beta2:G6}, ε = {eps:G2})", 1e-5, 1e-4, hint);
        }
    }
}
