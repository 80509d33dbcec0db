// Checks of hw-mnist-mlp.q1, the Mlp model (3 points). Compiled by the grader as a continuation of the student's
// notebook session: `Mlp` below is the student's class.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-mnist-mlp.q1", Points = 3)]
sealed class MlpCheck : QuestionCheck
{
    public override void Run(Grade grade)
    {
        // Fresh layer sizes, weights and inputs on every run: a model hard-wired to 784-512-256-10 fails.
        int h1 = grade.Random.Next(24, 96), h2 = grade.Random.Next(12, 48), outputs = grade.Random.Next(6, 16);
        int batch = grade.Random.Next(2, 9);
        string call = $"new Mlp(784, {h1}, {h2}, {outputs})";
        torch.manual_seed(grade.Seed);
        Mlp? net = null;
        Tensor[]? layers = null;

        grade.Part("layers and their shapes", 1, () =>
        {
            net = new Mlp(784, h1, h2, outputs);
            var named = net.named_parameters().ToList();
            Expect.That(named.Count == 6,
                $"{call} has {named.Count} parameter tensors ({string.Join(", ", named.Select(p => p.name))}); expected 6: "
                + "the weight and bias of fc1, fc2 and fc3.");
            string[] names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"];
            long[][] shapes = [[h1, 784], [h1], [h2, h1], [h2], [outputs, h2], [outputs]];
            bool byName = names.All(n => named.Any(p => p.name == n));
            var found = byName ? names.Select(n => (Tensor)named.First(p => p.name == n).parameter).ToArray()
                               : named.Select(p => (Tensor)p.parameter).ToArray();
            for (int i = 0; i < 6; i++)
                Expect.Shape(found[i], shapes[i], $"{call}: {(byName ? names[i] : $"parameter {i + 1} ({named[i].name})")}");
            layers = found;
        });

        var X = torch.rand(batch, 1, 28, 28);
        Tensor? yHat = null;
        grade.Part("output shape", 1, () =>
        {
            net ??= new Mlp(784, h1, h2, outputs);
            net.eval();
            using var noGrad = torch.no_grad();
            yHat = net.call(X).detach().MoveToOuterDisposeScope();
            Expect.Shape(yHat, [batch, outputs], $"{call} applied to a batch of shape [{batch}, 1, 28, 28]");
        });

        grade.Part("forward pass: ReLU between layers, none after fc3", 1, () =>
        {
            Expect.That(layers is not null && yHat is not null,
                "cannot compare the forward pass with the reference until the layer shapes and the output shape are right.");
            using var noGrad = torch.no_grad();
            var x = X.flatten(1);
            var h = nn.functional.relu(x.matmul(layers![0].t()) + layers[1]);
            h = nn.functional.relu(h.matmul(layers[2].t()) + layers[3]);
            var expected = h.matmul(layers[4].t()) + layers[5];
            Expect.Close(yHat!, expected, "logits", atol: 1e-5, rtol: 1e-4,
                hint: "The forward pass should be fc3(relu(fc2(relu(fc1(x.flatten(1)))))): ReLU after fc1 and fc2, no activation after fc3.");
        });
    }
}
