// Checks of hw-detection.q5, the trained `detector` (3 points). Compiled by the grader as a continuation of the student's
// notebook session; the constructor receives the student's variable of the same name.
// The grader builds its own scenes (the notebook's recipe: 1–3 MNIST TEST digits of 16–32 pixels per 64×64 canvas, one
// centre per 8×8 cell) with a seed of its own, decodes the detector's outputs (sigmoid objectness × class probability,
// boxes from sigmoid offsets and sizes), runs its own per-class NMS at IoU 0.5 and computes mAP@0.5 with the all-point AP
// of PASCAL VOC since 2010 (not VOC 2007's 11-point AP). None of the student's functions is used, so a wrong IoU, NMS or
// metric in the notebook cannot raise the score.
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-detection.q5", Points = 3)]
sealed class DetectorCheck(nn.Module<Tensor, Tensor>? detector) : QuestionCheck
{
    private const int Canvas = 64, Grid = 8, Cell = 8, Classes = 10;

    /// <summary>
    /// mAP@0.5 for full and half points. Quick mode: the solution (5 epochs on 2,000 scenes) measured 0.911 on the
    /// notebook's 300 test scenes and 0.906 on the grader's 300 (one grading seen). Full mode (8 epochs on 10,000 scenes)
    /// has not been measured yet: its bars only ask for more than the quick run reached, and should be set from a full
    /// grading. A detector that predicts nothing scores 0, one that always names the same digit at most 0.1.
    /// </summary>
    public static (double Full, double Half) Bars(bool quick) => quick ? (0.75, 0.45) : (0.85, 0.60);

    public override void Run(Grade grade)
    {
        grade.Part("mAP@0.5 on the grader's own scenes", 3, () =>
        {
            Expect.That(detector is not null, "`detector` is null: the training cell did not create the model.");
            int count = grade.Quick ? 300 : 1_000;
            using var mnist = Mnist.Load();
            var (X, boxes, labels) = MakeScenes(mnist.Test, count, grade.Seed);
            var model = detector!;
            model.eval();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            var detections = new List<(int Image, int Label, float Score, double[] Box)>();
            using (torch.no_grad())
                for (int first = 0; first < count; first += 100)
                {
                    using var scope = torch.NewDisposeScope();
                    int length = Math.Min(100, count - first);
                    var output = model.call(X.narrow(0, first, length).to(device)).cpu().to(ScalarType.Float32);
                    Expect.Shape(output, [length, 15, Grid, Grid], $"detector's output for {length} scenes of shape [{length}, 1, 64, 64]");
                    for (int i = 0; i < length; i++) detections.AddRange(Detect(output[i], first + i));
                }
            double map = MeanAp(detections, boxes, labels);
            var (full, half) = Bars(grade.Quick);
            int digits = labels.Sum(l => l.Count);
            string reached = $"mAP@0.5 {map:F3} on {count} fresh scenes with {digits} test digits ({detections.Count} detections after NMS; measured by the grader)";
            string bars = $"required ≥ {full:F2} for full and ≥ {half:F2} for half the points{(grade.Quick ? " (quick mode)" : "")}";
            if (map >= full) return (1.0, $"{reached}; {bars}.");
            if (map >= half) return (0.5, $"{reached}: below the full bar; {bars}. Train longer or check the recipe (batch normalisation, learning rate).");
            return (0.0, $"{reached}; {bars}. Check that the output layout is objectness, x, y, w, h, 10 class logits per cell, "
                         + "then DetectionLoss (q3) and the targets (q2), and that the training loop steps the optimizer.");
        });
    }

    /// <summary>The notebook's scene recipe, with the grader's seed: images (N, 1, 64, 64), boxes x0, y0, x1, y1 and labels per scene.</summary>
    private static (Tensor X, List<double[]>[] Boxes, List<int>[] Labels) MakeScenes(TensorDataSet digits, int count, int seed)
    {
        var random = new Random(seed);
        var digitLabels = digits.y.cpu().data<long>().ToArray();
        var pixels = new float[count * Canvas * Canvas];
        var boxes = new List<double[]>[count];
        var labels = new List<int>[count];
        for (int n = 0; n < count; n++)
        {
            boxes[n] = new List<double[]>();
            labels[n] = new List<int>();
            var squares = new List<(int X, int Y, int Size)>();
            var cells = new HashSet<int>();
            int wanted = random.Next(1, 4);
            for (int attempt = 0; attempt < 50 && squares.Count < wanted; attempt++)
            {
                int size = random.Next(16, 33), x = random.Next(0, Canvas - size + 1), y = random.Next(0, Canvas - size + 1);
                if (squares.Any(s => x < s.X + s.Size && s.X < x + size && y < s.Y + s.Size && s.Y < y + size)) continue;
                int pick = random.Next(digitLabels.Length);
                float[] digit;
                using (torch.NewDisposeScope())
                    digit = nn.functional.interpolate(digits.X[pick].unsqueeze(0).cpu(), new long[] { size, size }, mode: InterpolationMode.Bilinear,
                                                      align_corners: false).clamp(0, 1).data<float>().ToArray();
                int left = size, top = size, right = -1, bottom = -1;
                for (int r = 0; r < size; r++)
                    for (int c = 0; c < size; c++)
                        if (digit[r * size + c] > 0.5f) { left = Math.Min(left, c); right = Math.Max(right, c); top = Math.Min(top, r); bottom = Math.Max(bottom, r); }
                if (right < 0) continue;
                double x0 = x + left, y0 = y + top, x1 = x + right + 1, y1 = y + bottom + 1;
                if (!cells.Add((int)((y0 + y1) / 2 / Cell) * Grid + (int)((x0 + x1) / 2 / Cell))) continue;
                squares.Add((x, y, size));
                boxes[n].Add([x0, y0, x1, y1]);
                labels[n].Add((int)digitLabels[pick]);
                for (int r = 0; r < size; r++)
                    for (int c = 0; c < size; c++)
                    {
                        int at = (n * Canvas + y + r) * Canvas + x + c;
                        pixels[at] = Math.Max(pixels[at], digit[r * size + c]);
                    }
            }
        }
        return (torch.tensor(pixels, new long[] { count, 1, Canvas, Canvas }), boxes, labels);
    }

    private static double Iou(double[] a, double[] b)
    {
        double w = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0])), h = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h);
    }

    /// <summary>One scene's output (15, 8, 8) → its detections after per-class NMS at IoU 0.5 (confidence above 0.01).</summary>
    private static List<(int Image, int Label, float Score, double[] Box)> Detect(Tensor output, int image)
    {
        var objectness = output[0].sigmoid().contiguous().data<float>().ToArray();
        var geometry = output[1..5].sigmoid().contiguous().data<float>().ToArray();
        var probability = output[5..].softmax(0).contiguous().data<float>().ToArray();
        var candidates = new List<(int Image, int Label, float Score, double[] Box)>();
        for (int row = 0; row < Grid; row++)
            for (int column = 0; column < Grid; column++)
            {
                int cell = row * Grid + column;
                int label = Enumerable.Range(0, Classes).MaxBy(c => probability[c * Grid * Grid + cell]);
                float score = objectness[cell] * probability[label * Grid * Grid + cell];
                if (!(score > 0.01f)) continue;
                double cx = (column + geometry[cell]) * Cell, cy = (row + geometry[Grid * Grid + cell]) * Cell;
                double w = geometry[2 * Grid * Grid + cell] * Canvas, h = geometry[3 * Grid * Grid + cell] * Canvas;
                candidates.Add((image, label, score, [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]));
            }
        var kept = new List<(int Image, int Label, float Score, double[] Box)>();
        foreach (var d in candidates.OrderByDescending(d => d.Score))
            if (!kept.Any(k => k.Label == d.Label && Iou(k.Box, d.Box) > 0.5)) kept.Add(d);
        return kept;
    }

    /// <summary>
    /// All-point AP per class at IoU ≥ 0.5 (monotone precision, summed over every recall step, as PASCAL VOC since 2010),
    /// averaged over the 10 classes. Greedy matching, most confident first, to the best-overlapping true box still free
    /// (COCO's rule); VOC's code, which takes the best-overlapping box and counts a duplicate when it is taken, agrees on
    /// these scenes: their digits never overlap, so a detection reaches IoU 0.5 with at most one of them.
    /// </summary>
    private static double MeanAp(List<(int Image, int Label, float Score, double[] Box)> detections, List<double[]>[] boxes, List<int>[] labels)
    {
        double sum = 0;
        for (int c = 0; c < Classes; c++)
        {
            int total = labels.Sum(l => l.Count(v => v == c));
            if (total == 0) continue;
            var used = new HashSet<(int, int)>();
            var precision = new List<double>();
            var recall = new List<double>();
            int truePositives = 0, seen = 0;
            foreach (var d in detections.Where(d => d.Label == c).OrderByDescending(d => d.Score))
            {
                seen++;
                int best = -1;
                double bestIou = 0.5;
                for (int t = 0; t < labels[d.Image].Count; t++)
                {
                    if (labels[d.Image][t] != c || used.Contains((d.Image, t))) continue;
                    double iou = Iou(d.Box, boxes[d.Image][t]);
                    if (iou >= bestIou) { bestIou = iou; best = t; }
                }
                if (best >= 0) { used.Add((d.Image, best)); truePositives++; }
                precision.Add(truePositives / (double)seen);
                recall.Add(truePositives / (double)total);
            }
            for (int r = precision.Count - 2; r >= 0; r--) precision[r] = Math.Max(precision[r], precision[r + 1]);
            for (int r = 0; r < precision.Count; r++) sum += (recall[r] - (r == 0 ? 0 : recall[r - 1])) * precision[r];
        }
        return sum / Classes;
    }
}
