// Checks of hw-detection.q4, Nms (3 points). Compiled by the grader as a continuation of the student's notebook session;
// the constructor receives the student's function of the same name as a typed delegate.
// Reference: greedy NMS written here (highest score first; a box is dropped when its IoU with an already KEPT box of the
// same class exceeds the threshold), on random clusters of boxes; two overlapping boxes of different classes; a chain
// A–B–C where only neighbours overlap.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-detection.q4", Points = 3)]
sealed class NmsCheck(Func<Tensor, Tensor, Tensor, double, Tensor> Nms) : QuestionCheck
{
    private const string Rule = "Go from the highest score down; keep a box unless its IoU with an already kept box of the same class is above "
                                + "the threshold; return the kept indices, highest score first.";

    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("matches greedy per-class NMS on random clusters", 1, () =>
        {
            int clusters = grade.Random.Next(2, 5), k = grade.Random.Next(10, 25);
            var centres = torch.rand(clusters, 2) * 40 + 12;
            var which = torch.randint(0, clusters, [k], dtype: ScalarType.Int64);
            var centre = centres.index_select(0, which) + torch.randn(k, 2) * 3;
            var size = torch.rand(k, 2) * 8 + 12;
            var boxes = torch.cat([centre - size / 2, centre + size / 2], 1);
            var scores = torch.randperm(k).to(ScalarType.Float32) / k * 0.9f + torch.rand(k) * 0.01f;   // distinct
            var labels = torch.randint(0, 3, [k], dtype: ScalarType.Int64);
            double threshold = Math.Round(0.3 + 0.3 * grade.Random.NextDouble(), 2);
            var expected = Reference(boxes, scores, labels, threshold);
            var kept = Indices(Nms(boxes, scores, labels, threshold));
            Expect.That(kept.SequenceEqual(expected),
                $"Nms of {k} boxes in {clusters} clusters, 3 classes, threshold {threshold} kept [{string.Join(", ", kept)}]; expected [{string.Join(", ", expected)}]. {Rule}");
            var none = Indices(Nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype: ScalarType.Int64), threshold));
            Expect.That(none.Length == 0, $"Nms of no boxes returned {none.Length} indices; expected none.");
        });

        grade.Part("boxes of different classes never suppress each other", 1, () =>
        {
            float x = grade.Random.Next(0, 30), y = grade.Random.Next(0, 30);
            long c = grade.Random.Next(0, 10), d = (c + grade.Random.Next(1, 10)) % 10;
            var boxes = torch.tensor(new[] { x, y, x + 20, y + 20, x + 1, y + 1, x + 21, y + 21, x + 2, y, x + 22, y + 20 }, new long[] { 3, 4 });
            var scores = torch.tensor(new[] { 0.7f, 0.9f, 0.8f });
            var labels = torch.tensor(new[] { c, c, d });
            var kept = Indices(Nms(boxes, scores, labels, 0.5));
            long[] expected = [1, 2];
            Expect.That(kept.SequenceEqual(expected),
                $"Nms of three nearly identical boxes (scores 0.7, 0.9, 0.8; classes {c}, {c}, {d}; threshold 0.5) kept [{string.Join(", ", kept)}]; "
                + "expected [1, 2]: box 1 suppresses box 0 (same class), box 2 is another class and stays. NMS is done per class.");
        });

        grade.Part("a suppressed box suppresses nothing", 1, () =>
        {
            float x = grade.Random.Next(0, 30), y = grade.Random.Next(0, 30);
            long c = grade.Random.Next(0, 10);
            // A, B = A shifted 4, C = A shifted 8 (10 × 10 boxes): IoU(A, B) = IoU(B, C) = 60 / 140 = 0.43, IoU(A, C) = 20 / 180 = 0.11.
            var order = new[] { 0, 1, 2 }.OrderBy(_ => grade.Random.Next()).ToArray();             // where A, B and C sit in the input
            var corners = new float[12];
            var scores = new float[3];
            for (int role = 0; role < 3; role++)
            {
                float shift = 4 * role;
                Array.Copy(new[] { x + shift, y, x + shift + 10, y + 10 }, 0, corners, 4 * order[role], 4);
                scores[order[role]] = 0.9f - 0.1f * role;
            }
            var kept = Indices(Nms(torch.tensor(corners, new long[] { 3, 4 }), torch.tensor(scores), torch.tensor(new[] { c, c, c }), 0.3));
            long[] expected = [order[0], order[2]];
            Expect.That(kept.SequenceEqual(expected),
                $"Nms of a chain A (score 0.9) – B (0.8) – C (0.7), same class, where IoU(A, B) = IoU(B, C) = 0.43 and IoU(A, C) = 0.11, threshold 0.3, "
                + $"kept [{string.Join(", ", kept)}]; expected A and C = [{string.Join(", ", expected)}]. B is suppressed by A, so it must not suppress C: "
                + "compare each box only with the boxes already KEPT.");
        });
    }

    private static long[] Indices(Tensor kept) => kept.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();

    private static long[] Reference(Tensor boxes, Tensor scores, Tensor labels, double threshold)
    {
        var b = boxes.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var s = scores.data<float>().ToArray();
        var l = labels.data<long>().ToArray();
        double Iou(long i, long j)
        {
            double w = Math.Max(0, Math.Min(b[4 * i + 2], b[4 * j + 2]) - Math.Max(b[4 * i], b[4 * j]));
            double h = Math.Max(0, Math.Min(b[4 * i + 3], b[4 * j + 3]) - Math.Max(b[4 * i + 1], b[4 * j + 1]));
            double union = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]) + (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]) - w * h;
            return w * h / union;
        }
        var kept = new List<long>();
        foreach (long i in Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]))
            if (!kept.Any(k => l[k] == l[i] && Iou(k, i) > threshold)) kept.Add(i);
        return kept.ToArray();
    }
}
