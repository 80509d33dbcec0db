// Checks of hw-detection.q2, EncodeTargets (3 points). Compiled by the grader as a continuation of the student's notebook
// session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: the cell (row ⌊c_y / 8⌋, column ⌊c_x / 8⌋) of each box's centre gets objectness 1, the class, and the geometry
// c_x / 8 − column, c_y / 8 − row, (x1 − x0) / 64, (y1 − y0) / 64; random boxes drawn here with their centres in distinct cells.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-detection.q2", Points = 3)]
sealed class EncodeTargetsCheck(Func<Tensor, Tensor, (Tensor Obj, Tensor Geometry, Tensor Cls)> EncodeTargets) : QuestionCheck
{
    private const int Grid = 8, Cell = 8, Canvas = 64;

    public override void Run(Grade grade)
    {
        grade.Part("responsible cells and their classes", 1, () =>
        {
            var (boxes, labels) = RandomScene(grade.Random, onBorder: false);
            var (obj, _, cls) = EncodeTargets(boxes, labels);
            var (expectedObj, _, expectedCls) = Reference(boxes, labels);
            string call = $"EncodeTargets of {labels.shape[0]} boxes";
            Expect.Shape(obj, [Grid, Grid], $"Obj of {call}");
            Expect.Shape(cls, [Grid, Grid], $"Cls of {call}");
            Expect.Close(obj.to(ScalarType.Float32), expectedObj, $"Obj ({call}: {Describe(boxes)})", 0, 0,
                "The responsible cell is row ⌊c_y / 8⌋ (from y), column ⌊c_x / 8⌋ (from x), with c = the box's centre; Obj[row, column] = 1.");
            Expect.Close(cls.to(ScalarType.Float32), expectedCls.to(ScalarType.Float32), $"Cls ({call}: {Describe(boxes)}, labels {string.Join(", ", labels.data<long>().ToArray())})", 0, 0,
                "Cls[row, column] is the label of the box whose centre lies in that cell; 0 in the other cells.");
        });

        grade.Part("offsets inside the cell and sizes relative to the image", 1, () =>
        {
            var (boxes, labels) = RandomScene(grade.Random, onBorder: false);
            var (_, geometry, _) = EncodeTargets(boxes, labels);
            var (_, expected, _) = Reference(boxes, labels);
            Expect.Shape(geometry, [4, Grid, Grid], $"Geometry of EncodeTargets of {labels.shape[0]} boxes");
            Expect.Close(geometry.to(ScalarType.Float32), expected, $"Geometry ({Describe(boxes)})", 1e-5, 1e-4,
                "Channel 0: c_x / 8 − column, channel 1: c_y / 8 − row (the centre inside its cell, in cell units, 0 to 1); "
                + "channel 2: width / 64, channel 3: height / 64; 0 outside the responsible cells.");
        });

        grade.Part("centres exactly on a cell border", 1, () =>
        {
            var (boxes, labels) = RandomScene(grade.Random, onBorder: true);
            var (obj, geometry, cls) = EncodeTargets(boxes, labels);
            var (expectedObj, expectedGeometry, expectedCls) = Reference(boxes, labels);
            string what = $"EncodeTargets of boxes whose centres lie on cell borders ({Describe(boxes)})";
            string hint = "A centre at x = 8·k belongs to column k (offset 0), not to column k − 1 (offset 1): use ⌊c_x / 8⌋, not rounding.";
            Expect.Close(obj.to(ScalarType.Float32), expectedObj, $"Obj of {what}", 0, 0, hint);
            Expect.Close(cls.to(ScalarType.Float32), expectedCls.to(ScalarType.Float32), $"Cls of {what}", 0, 0, hint);
            Expect.Close(geometry.to(ScalarType.Float32), expectedGeometry, $"Geometry of {what}", 1e-5, 1e-4, hint);
        });
    }

    /// <summary>2 to 5 boxes with centres in distinct cells, labels 1–9 (0 is the background's value in Cls); on a border: c = 8·k, k ≥ 1.</summary>
    private static (Tensor Boxes, Tensor Labels) RandomScene(Random random, bool onBorder)
    {
        int count = random.Next(2, 6);
        int[] cells;
        do cells = Enumerable.Range(0, Grid * Grid).Where(c => !onBorder || (c / Grid > 0 && c % Grid > 0))     // borders inside the image
                             .OrderBy(_ => random.Next()).Take(count).ToArray();
        while (cells.All(c => cells.Contains(c % Grid * Grid + c / Grid)));                        // a symmetric set cannot tell rows from columns
        var corners = new List<float>();
        var labels = new List<long>();
        foreach (int cell in cells)
        {
            int row = cell / Grid, column = cell % Grid;
            float cx = onBorder ? column * Cell : column * Cell + 0.5f + random.Next(0, 14) * 0.5f;   // 0.5 … 7.0 inside the cell
            float cy = onBorder ? row * Cell : row * Cell + 0.5f + random.Next(0, 14) * 0.5f;
            float w = random.Next(4, 31), h = random.Next(4, 31);
            if (onBorder) { w = 2 * random.Next(2, 15); h = 2 * random.Next(2, 15); }                   // even: the corners stay exact
            corners.AddRange(new[] { cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2 });
            labels.Add(random.Next(1, 10));
        }
        return (torch.tensor(corners.ToArray(), new long[] { count, 4 }), torch.tensor(labels.ToArray()));
    }

    private static (Tensor Obj, Tensor Geometry, Tensor Cls) Reference(Tensor boxes, Tensor labels)
    {
        var obj = new float[Grid * Grid];
        var geometry = new float[4 * Grid * Grid];
        var cls = new long[Grid * Grid];
        var b = boxes.data<float>().ToArray();
        var l = labels.data<long>().ToArray();
        for (int k = 0; k < l.Length; k++)
        {
            double cx = (b[4 * k] + b[4 * k + 2]) / 2.0, cy = (b[4 * k + 1] + b[4 * k + 3]) / 2.0;
            int column = (int)Math.Floor(cx / Cell), row = (int)Math.Floor(cy / Cell), cell = row * Grid + column;
            obj[cell] = 1;
            cls[cell] = l[k];
            geometry[cell] = (float)(cx / Cell - column);
            geometry[Grid * Grid + cell] = (float)(cy / Cell - row);
            geometry[2 * Grid * Grid + cell] = (b[4 * k + 2] - b[4 * k]) / Canvas;
            geometry[3 * Grid * Grid + cell] = (b[4 * k + 3] - b[4 * k + 1]) / Canvas;
        }
        return (torch.tensor(obj, new long[] { Grid, Grid }), torch.tensor(geometry, new long[] { 4, Grid, Grid }), torch.tensor(cls, new long[] { Grid, Grid }));
    }

    private static string Describe(Tensor boxes) =>
        "boxes " + string.Join("; ", boxes.data<float>().ToArray().Chunk(4).Select(c => $"({string.Join(", ", c.Select(v => v.ToString("0.#")))})"));
}
