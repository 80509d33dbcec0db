// Checks of hw-optimizers.q1, SgdMomentumStep (3 points). Compiled by the grader as a continuation of the student's
// notebook session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: torch.optim.SGD(params, lr, momentum) (no dampening, no Nesterov), fed the same gradients.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-optimizers.q1", Points = 3)]
sealed class SgdMomentumCheck(Action<Tensor[], Tensor[], Tensor[], double, double> SgdMomentumStep) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("one step from zero velocity", 1, () =>
        {
            var (lr, momentum) = (Draw(grade, 0.01, 0.5), Draw(grade, 0.5, 0.95));
            var run = new Trial(Shapes(grade), lr, momentum);
            run.Step(SgdMomentumStep, 1);
            run.Compare(1, "after one step", "At the first step the velocity is 0, so velocity = gradient and θ ← θ − lr·gradient; "
                + "update the parameter tensors you are given in place (sub_, add_), do not put new tensors into the arrays.");
        });

        grade.Part("five steps, velocity carried over", 1, () =>
        {
            var (lr, momentum) = (Draw(grade, 0.01, 0.3), Draw(grade, 0.5, 0.95));
            var run = new Trial(Shapes(grade), lr, momentum);
            for (int step = 1; step <= 5; step++)
            {
                run.Step(SgdMomentumStep, step);
                run.Compare(step, $"after step {step}",
                    "velocity ← momentum·velocity + gradient (no (1 − momentum) factor), then θ ← θ − lr·velocity; update the "
                    + "velocity tensors you are given in place so the next call sees them.");
            }
        });

        grade.Part("momentum 0 is plain SGD; gradients unchanged", 1, () =>
        {
            double lr = Draw(grade, 0.01, 0.5);
            var p = torch.randn(grade.Random.Next(2, 6), grade.Random.Next(2, 6));
            var g = torch.randn_like(p);
            var (pBefore, gBefore) = (p.clone(), g.clone());
            SgdMomentumStep([p], [g], [torch.zeros_like(p)], lr, 0.0);
            Expect.Close(g, gBefore, "the gradient after your step", 0, 0, "Do not change the gradients: update only parameters and velocity.");
            var expected = pBefore - lr * gBefore;
            if (!torch.allclose(p, expected, rtol: 1e-5, atol: 1e-6))
            {
                if (torch.allclose(p, pBefore, rtol: 0, atol: 0))
                    Expect.Fail($"wrong step: θ after one step with lr = {lr:G3} and momentum 0 did not change: assigning new tensors into the "
                                + "arrays (parameters[i] = …) does not reach the caller's tensors; update them in place with sub_.");
                if (torch.allclose(p, pBefore + lr * gBefore, rtol: 1e-5, atol: 1e-6))
                    Expect.Fail($"wrong step: θ after one step with lr = {lr:G3} and momentum 0 moved uphill (θ + lr·gradient): the step "
                                + "goes uphill (θ ← θ + lr·velocity): subtract, θ ← θ − lr·velocity.");
            }
            Expect.Close(p, pBefore - lr * gBefore, $"θ after one step with lr = {lr:G3} and momentum 0", 1e-6, 1e-5,
                "With momentum 0 the step is θ ← θ − lr·gradient; update the parameter tensor in place (sub_), do not replace it.");
        });
    }

    private static double Draw(Grade grade, double lo, double hi) => Math.Round(lo + (hi - lo) * grade.Random.NextDouble(), 4);

    private static long[][] Shapes(Grade grade) =>
        [[grade.Random.Next(2, 7), grade.Random.Next(2, 7)], [grade.Random.Next(1, 9)], [grade.Random.Next(2, 5), grade.Random.Next(1, 4), 2]];

    /// <summary>The student's tensors and a TorchSharp SGD over copies of them, fed the same gradients.</summary>
    private sealed class Trial
    {
        private readonly Tensor[] parameters, velocity;
        private readonly TorchSharp.Modules.Parameter[] reference;
        private readonly optim.Optimizer optimizer;
        private readonly double lr, momentum;

        /// <summary>The typical wrong steps, run on the same gradients: a student whose parameters match one is told that mistake.</summary>
        private readonly List<(string Mistake, Action<Tensor, Tensor, Tensor> Update, Tensor[] Parameters, Tensor[] Velocity)> mistakes = [];

        public Trial(long[][] shapes, double lr, double momentum)
        {
            (this.lr, this.momentum) = (lr, momentum);
            parameters = shapes.Select(s => torch.randn(s)).ToArray();
            velocity = parameters.Select(p => torch.zeros_like(p)).ToArray();
            reference = parameters.Select(p => new TorchSharp.Modules.Parameter(p.clone())).ToArray();
            optimizer = torch.optim.SGD(reference, lr, momentum);
            void Add(string mistake, Action<Tensor, Tensor, Tensor> update) =>
                mistakes.Add((mistake, update, parameters.Select(p => p.clone()).ToArray(), parameters.Select(p => torch.zeros_like(p)).ToArray()));
            Add("the velocity is damped (velocity ← momentum·velocity + (1 − momentum)·gradient): here, as in torch.optim.SGD, "
                + "velocity ← momentum·velocity + gradient", (p, v, g) => { v.mul_(momentum).add_((1 - momentum) * g); p.sub_(lr * v); });
            Add("every step moves the parameters by lr·gradient, as if the velocity were not carried over: update velocity[i] "
                + "in place (mul_, add_) and step with it, θ ← θ − lr·velocity", (p, v, g) => p.sub_(lr * g));
            Add("the parameters did not change: assigning new tensors into the arrays (parameters[i] = …) does not reach the "
                + "caller's tensors; update them in place with sub_", (p, v, g) => { });
            Add("the step goes uphill (θ ← θ + lr·velocity): subtract, θ ← θ − lr·velocity",
                (p, v, g) => { v.mul_(momentum).add_(g); p.add_(lr * v); });
        }

        public void Step(Action<Tensor[], Tensor[], Tensor[], double, double> studentStep, int step)
        {
            var gradients = parameters.Select(p => torch.randn_like(p)).ToArray();
            // fresh arrays holding the same tensors: a step that puts new tensors into the arrays instead of updating
            // the given ones in place leaves these tensors unchanged
            studentStep(parameters.ToArray(), gradients.Select(g => g.clone()).ToArray(), velocity.ToArray(), lr, momentum);
            using (torch.no_grad())
                foreach (var m in mistakes)
                    for (int i = 0; i < gradients.Length; i++) m.Update(m.Parameters[i], m.Velocity[i], gradients[i]);
            optimizer.zero_grad();
            // the gradient of Σ θ ⊙ g with respect to θ is exactly g
            reference.Zip(gradients, (p, g) => (p * g).sum()).Aggregate((a, b) => a + b).backward();
            optimizer.step();
        }

        public void Compare(int step, string when, string hint)
        {
            bool right = parameters.Zip(reference).All(x => torch.allclose(x.First, x.Second.detach(), rtol: 1e-4, atol: 1e-5));
            if (!right)
                foreach (var m in mistakes)
                    if (parameters.Zip(m.Parameters).All(x => torch.allclose(x.First, x.Second, rtol: 1e-4, atol: 1e-5)))
                        Expect.Fail($"wrong step: your parameters {when} (lr = {lr:G3}, momentum = {momentum:G3}) are those of a step where {m.Mistake}.");
            for (int i = 0; i < parameters.Length; i++)
                Expect.Close(parameters[i], reference[i].detach(), $"parameter {i} {when} (lr = {lr:G3}, momentum = {momentum:G3})",
                    1e-5, 1e-4, hint);
        }
    }
}
