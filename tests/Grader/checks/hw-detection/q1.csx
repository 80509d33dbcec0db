// Checks of hw-detection.q1, BoxIou (3 points). Compiled by the grader as a continuation of the student's notebook
// session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: intersection = clamp(min(right) − max(left), 0) · clamp(min(bottom) − max(top), 0); IoU = inter / (area_a + area_b − inter),
// on random boxes drawn here (N ≠ M) and on boxes placed apart, touching, nested and identical.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-detection.q1", Points = 3)]
sealed class BoxIouCheck(Func<Tensor, Tensor, Tensor> BoxIou) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("random boxes, all N × M pairs", 2, () =>
        {
            long n = grade.Random.Next(2, 9), m = grade.Random.Next(2, 9);
            if (m == n) m++;
            var a = RandomBoxes(n);
            var b = torch.cat([a.narrow(0, 0, Math.Min(n, m / 2)) + torch.randn(Math.Min(n, m / 2), 4) * 3,   // near some of a: real overlaps
                               RandomBoxes(m - Math.Min(n, m / 2))]);
            b = torch.stack([torch.minimum(b[.., 0], b[.., 2] - 1), torch.minimum(b[.., 1], b[.., 3] - 1), b[.., 2], b[.., 3]], 1);
            var iou = BoxIou(a, b);
            Expect.Shape(iou, [n, m], $"BoxIou(a [{n}, 4], b [{m}, 4])");
            Expect.Close(iou.to(ScalarType.Float64), Reference(a, b), $"BoxIou(a [{n}, 4], b [{m}, 4])", 1e-5, 1e-4,
                "Entry [i, j] is IoU(a[i], b[j]): intersection area / (area of a[i] + area of b[j] − intersection), each side of the "
                + "intersection clamped at 0.");
        });

        grade.Part("disjoint, touching, nested and identical boxes", 1, () =>
        {
            float x = grade.Random.Next(0, 20), y = grade.Random.Next(0, 20), w = grade.Random.Next(6, 20), h = grade.Random.Next(6, 20);
            float gap = grade.Random.Next(1, 8);
            var cases = new (string Name, float[] Other, double Expected, string Hint)[]
            {
                ("identical boxes", [x, y, x + w, y + h], 1.0, "A box overlaps itself completely: IoU 1."),
                ("boxes diagonally apart (no overlap in x nor in y)", [x + w + gap, y + h + gap, x + 2 * w + gap, y + 2 * h + gap], 0.0,
                 "Clamp each side of the intersection at 0 BEFORE multiplying: two negative sides make a positive area."),
                ("boxes side by side (apart in x, overlapping in y)", [x + w + gap, y, x + 2 * w + gap, y + h], 0.0,
                 "No overlap in x means no intersection: the width max(0, min(x1) − max(x0)) is 0."),
                ("boxes that touch along an edge", [x + w, y, x + 2 * w, y + h], 0.0, "Boxes that only share an edge have intersection 0."),
                ("a box inside the other", [x + 2, y + 2, x + w - 2, y + h - 2], (w - 4) * (h - 4) / (double)(w * h),
                 "The intersection is the inner box; the union the outer one."),
            };
            var box = torch.tensor(new[] { x, y, x + w, y + h }, new long[] { 1, 4 });
            foreach (var (name, other, expected, hint) in cases)
            {
                var iou = BoxIou(box, torch.tensor(other, new long[] { 1, 4 }));
                Expect.Shape(iou, [1, 1], "BoxIou of one box with one box");
                double value = iou.to(ScalarType.Float64).item<double>();
                Expect.Close(value, expected, $"IoU of {name}, ({x}, {y}, {x + w}, {y + h}) and ({string.Join(", ", other)}),", 1e-5, hint);
            }
        });
    }

    /// <summary>n boxes x0, y0, x1, y1 inside 0..64 with sides of 4 to 30 pixels.</summary>
    private static Tensor RandomBoxes(long n)
    {
        var size = torch.rand(n, 2) * 26 + 4;
        var corner = torch.rand(n, 2) * (64 - size);
        return torch.cat([corner, corner + size], 1);
    }

    private static Tensor Reference(Tensor a, Tensor b)
    {
        var p = a.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var q = b.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        long n = a.shape[0], m = b.shape[0];
        var iou = new double[n * m];
        for (long i = 0; i < n; i++)
            for (long j = 0; j < m; j++)
            {
                double w = Math.Max(0, Math.Min(p[4 * i + 2], q[4 * j + 2]) - Math.Max(p[4 * i], q[4 * j]));
                double h = Math.Max(0, Math.Min(p[4 * i + 3], q[4 * j + 3]) - Math.Max(p[4 * i + 1], q[4 * j + 1]));
                double areaA = (p[4 * i + 2] - p[4 * i]) * (p[4 * i + 3] - p[4 * i + 1]);
                double areaB = (q[4 * j + 2] - q[4 * j]) * (q[4 * j + 3] - q[4 * j + 1]);
                iou[i * m + j] = w * h / (areaA + areaB - w * h);
            }
        return torch.tensor(iou, new long[] { n, m });
    }
}
