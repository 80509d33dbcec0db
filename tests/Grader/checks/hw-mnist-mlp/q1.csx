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
            Tensor Fc(int i, Tensor input) => input.matmul(layers![2 * i].t()) + layers[2 * i + 1];
            Tensor Forward(Func<Tensor, Tensor> after1, Func<Tensor, Tensor> after2, Func<Tensor, Tensor> after3) =>
                after3(Fc(2, after2(Fc(1, after1(Fc(0, x))))));
            Func<Tensor, Tensor> relu = t => nn.functional.relu(t), none = t => t;
            var expected = Forward(relu, relu, none);
            if (torch.allclose(yHat!, expected, rtol: 1e-4, atol: 1e-5)) return;
            // The typical wrong forward passes, each computed from the student's own layers: a match names the mistake.
            (string Mistake, Tensor Output)[] mutations =
            [
                ("there is no ReLU after fc1: apply nn.functional.relu to fc1's output", Forward(none, relu, none)),
                ("there is no ReLU after fc2: apply nn.functional.relu to fc2's output", Forward(relu, none, none)),
                ("there is no activation at all: without ReLU after fc1 and fc2 the three layers collapse into one linear map", Forward(none, none, none)),
                ("there is an activation after fc3 (ReLU): return fc3's output as it is, the logits; cross_entropy applies the softmax itself", Forward(relu, relu, relu)),
                ("there is a softmax after fc3: return the raw logits; cross_entropy applies the (log-)softmax itself", Forward(relu, relu, t => nn.functional.softmax(t, 1))),
                ("there is a log_softmax after fc3: return the raw logits; cross_entropy applies it itself", Forward(relu, relu, t => nn.functional.log_softmax(t, 1))),
                ("the activation is a sigmoid: this network uses ReLU after fc1 and fc2", Forward(t => torch.sigmoid(t), t => torch.sigmoid(t), none)),
                ("the activation is tanh: this network uses ReLU after fc1 and fc2", Forward(t => torch.tanh(t), t => torch.tanh(t), none)),
            ];
            foreach (var (mistake, output) in mutations)
                if (output.shape.SequenceEqual(yHat!.shape) && torch.allclose(yHat!, output, rtol: 1e-4, atol: 1e-5))
                    Expect.Fail($"wrong forward pass: {mistake}. (Your logits match that network's exactly.)");
            Expect.Close(yHat!, expected, "logits", atol: 1e-5, rtol: 1e-4,
                hint: "The forward pass should be fc3(relu(fc2(relu(fc1(x.flatten(1)))))): ReLU after fc1 and fc2, no activation after fc3.");
        });
    }
}
