using MLCourse.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Compression;

public class DistillationTests
{
    [Fact]
    public void A_higher_temperature_flattens_the_distribution()
    {
        var logits = torch.tensor(new float[] { 4f, 1f, 0f });
        var p1 = Distillation.SoftTargets(logits, 1).data<float>().ToArray();
        var p10 = Distillation.SoftTargets(logits, 10).data<float>().ToArray();
        Assert.Equal(Math.Exp(4) / (Math.Exp(4) + Math.Exp(1) + 1), p1[0], 5);
        Assert.True(p10[0] < p1[0] && p10[2] > p1[2]);
        Assert.Equal(1, p10.Sum(), 5);
    }

    [Fact]
    public void The_soft_term_vanishes_when_the_student_copies_the_teacher()
    {
        Course.Seed(0);
        var logits = torch.randn(8, 5);
        var labels = torch.randint(0, 5, 8, dtype: ScalarType.Int64);
        Assert.Equal(0, Distillation.Loss(logits, logits, labels, temperature: 3, alpha: 1).item<float>(), 5);
    }

    [Fact]
    public void Alpha_zero_is_plain_cross_entropy_and_the_soft_term_is_a_scaled_kl()
    {
        Course.Seed(1);
        var s = torch.randn(6, 4);
        var t = torch.randn(6, 4);
        var y = torch.randint(0, 4, 6, dtype: ScalarType.Int64);
        Assert.Equal(nn.functional.cross_entropy(s, y).item<float>(), Distillation.Loss(s, t, y, 2, alpha: 0).item<float>(), 5);

        double T = 2, expected = 0;
        var ps = nn.functional.softmax(s / T, 1).data<float>().ToArray();
        var pt = nn.functional.softmax(t / T, 1).data<float>().ToArray();
        for (int i = 0; i < ps.Length; i++) expected += pt[i] * Math.Log(pt[i] / ps[i]);
        expected = expected / 6 * T * T;
        Assert.Equal(expected, Distillation.Loss(s, t, y, T, alpha: 1).item<float>(), 4);
    }

    [Fact]
    public void Gradients_flow_to_the_student_only()
    {
        var s = torch.randn(3, 4, requires_grad: true);
        var t = torch.randn(3, 4, requires_grad: true);
        var y = torch.tensor(new long[] { 0, 1, 2 });
        Distillation.Loss(s, t, y).backward();
        Assert.NotNull(s.grad);
        Assert.Null(t.grad);
    }
}
