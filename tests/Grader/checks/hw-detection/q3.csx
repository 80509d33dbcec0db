// Checks of hw-detection.q3, DetectionLoss (3 points). Compiled by the grader as a continuation of the student's notebook
// session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: (5 · Σ obj·[(x̂ − x)² + (ŷ − y)² + (√ŵ − √w)² + (√ĥ − √h)²] + Σ λ·BCE(o, obj) with λ = 1 / 0.5 + Σ obj·CE(class)) / B,
// on random outputs and targets drawn here; then the same loss after changing only the box and class outputs of empty
// cells (must not change), and after changing only their objectness logits (must change by 0.5·ΔBCE / B).
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-detection.q3", Points = 3)]
sealed class DetectionLossCheck(Func<Tensor, Tensor, Tensor, Tensor, Tensor> DetectionLoss) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);
        long B = grade.Random.Next(2, 7);
        var obj = torch.rand(B, 8, 8).lt(0.15).to(ScalarType.Float32);
        obj[0, grade.Random.Next(8), grade.Random.Next(8)] = torch.tensor(1f);                      // at least one object
        var geometry = torch.cat([torch.rand(B, 2, 8, 8) * 0.9 + 0.05, torch.rand(B, 2, 8, 8) * 0.45 + 0.05], 1) * obj.unsqueeze(1);
        var cls = (torch.randint(0, 10, [B, 8, 8], dtype: ScalarType.Int64) * obj.to(ScalarType.Int64));
        var output = torch.randn(B, 15, 8, 8) * 2;
        var empty = (1 - obj).unsqueeze(1);                                                          // (B, 1, 8, 8)
        string call = $"DetectionLoss(output [{B}, 15, 8, 8], targets of {obj.sum().item<float>():F0} objects)";

        double Loss(Tensor o)
        {
            var loss = DetectionLoss(o, obj, geometry, cls);
            Expect.That(loss.numel() == 1, $"{call} returned {loss.numel()} values; expected one number (the sum divided by the batch size).");
            return loss.to(ScalarType.Float64).item<double>();
        }

        grade.Part("value on random outputs and targets", 1, () =>
        {
            double expected = Reference(output, obj, geometry, cls);
            Expect.Close(Loss(output), expected, call, 1e-4 * Math.Max(1, Math.Abs(expected)),
                "5 · box squared errors (x, y, √w, √h; sigmoid of channels 1–4) in responsible cells + objectness BCE with logits (channel 0) in "
                + "all cells, weight 1 with an object and 0.5 without + class cross-entropy (channels 5–14) in responsible cells; summed, divided by B.");
        });

        grade.Part("box and class outputs of empty cells are ignored", 1, () =>
        {
            var changed = output.clone();
            changed[.., 1..] = output[.., 1..] + torch.randn(B, 14, 8, 8) * 3 * empty;               // only cells without an object
            double before = Loss(output), after = Loss(changed);
            Expect.Close(after, before, $"{call} after changing channels 1–14 of the empty cells (it was {before:G6})", 1e-4 * Math.Max(1, Math.Abs(before)),
                "An empty cell has no box and no class to learn: multiply the box and the class terms by obj (or select the responsible cells).");
        });

        grade.Part("objectness in every cell, weight 0.5 where empty, divided by B", 1, () =>
        {
            var changed = output.clone();
            var newLogits = output[.., 0] + torch.randn(B, 8, 8) * 2 * (1 - obj);
            changed[.., 0] = newLogits;
            double before = Loss(output), after = Loss(changed);
            double expected = (0.5 * (nn.functional.softplus(newLogits) - nn.functional.softplus(output[.., 0])) * (1 - obj)).sum().item<float>() / B;
            Expect.Close(after - before, expected, $"change of {call} when only the objectness logits of empty cells change", 1e-4 * Math.Max(1, Math.Abs(expected)),
                "Empty cells must learn objectness 0: BCE(o, 0) = log(1 + e^o) there, weighted λ_noobj = 0.5, summed over cells and divided by the batch size B "
                + "(not averaged over cells).");
        });
    }

    private static double Reference(Tensor output, Tensor obj, Tensor geometry, Tensor cls)
    {
        var o = output.to(ScalarType.Float64);
        var p = o[.., 1..5].sigmoid();
        var g = geometry.to(ScalarType.Float64);
        var box = ((p[.., ..2] - g[.., ..2]).pow(2).sum(1) + (p[.., 2..].sqrt() - g[.., 2..].sqrt()).pow(2).sum(1)) * obj;
        var target = obj.to(ScalarType.Float64);
        var bce = nn.functional.softplus(o[.., 0]) - o[.., 0] * target;                          // BCE with logits
        var weight = target + 0.5 * (1 - target);
        var ce = -o[.., 5..].log_softmax(1).gather(1, cls.unsqueeze(1)).squeeze(1);                // (B, 8, 8)
        return ((5 * box + weight * bce + ce * target).sum() / output.shape[0]).item<double>();
    }
}
