using System.Globalization;
using System.IO.Compression;
using TorchSharp;

namespace MLCourse.Data;

/// <summary>
/// The classic small tabular sets as scikit-learn ships them (iris, wine, breast cancer, digits), read from
/// Debian's python3-sklearn copy (<c>/usr/lib/python3/dist-packages/sklearn/datasets/data</c>,
/// <c>apt-get install python3-sklearn</c>) or from a <c>sklearn-toy</c> folder in the usual lookup places.
/// <c>X</c> is float32 [N, F] and <c>y</c> int64 [N], on <see cref="Course.Device"/>.
/// Introduced in chapter 03 (classic machine learning).
/// </summary>
public static class ToyDataSets
{
    /// <summary>The name of the set in <c>data/datasets.json</c> and of its folder.</summary>
    public const string Name = "sklearn-toy";

    /// <summary>Iris (Fisher 1936): 150 flowers, 4 measurements in cm, 3 species.</summary>
    public static TensorDataSet Iris(string? path = null) =>
        ReadWithHeader(File(path, "iris.csv"), ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]);

    /// <summary>Wine (UCI): 178 wines, 13 chemical measurements, 3 cultivars.</summary>
    public static TensorDataSet Wine(string? path = null) =>
        ReadWithHeader(File(path, "wine_data.csv"),
        [
            "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
            "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline",
        ]);

    /// <summary>Breast Cancer Wisconsin (diagnostic): 569 tumours, 30 features (mean, error, worst of 10 measurements), malignant (0) or benign (1).</summary>
    public static TensorDataSet BreastCancer(string? path = null)
    {
        string[] measures = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave points", "symmetry", "fractal dimension"];
        string[] names = [.. measures.Select(m => $"mean {m}"), .. measures.Select(m => $"{m} error"), .. measures.Select(m => $"worst {m}")];
        return ReadWithHeader(File(path, "breast_cancer.csv"), names);
    }

    /// <summary>
    /// Digits (UCI optdigits test part): 1,797 handwritten digits as 8x8 images with values 0-16 (not rescaled),
    /// flattened to 64 features <c>pixel_ROW_COL</c>; reshape <c>X</c> to [N, 1, 8, 8] for image models.
    /// </summary>
    public static TensorDataSet Digits(string? path = null)
    {
        string file = File(path, "digits.csv.gz");
        string[] names = [.. Enumerable.Range(0, 64).Select(i => $"pixel_{i / 8}_{i % 8}")];
        return Build(file, ReadRows(file, firstLineIsHeader: false, 1797, 64), names, Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray());
    }

    private static string File(string? path, string name) =>
        Path.Combine(DataLocator.Find(DataManifest.Get(Name), path), name);

    /// <summary>sklearn's CSV layout: a first line "n_samples,n_features,class names…", then features and the class index.</summary>
    private static TensorDataSet ReadWithHeader(string file, string[] featureNames)
    {
        string first = ReadLines(file).FirstOrDefault() ?? "";
        string[] head = first.Split(',');
        if (head.Length < 3 || !int.TryParse(head[0], out int samples) || !int.TryParse(head[1], out int features))
            throw new DataSetException($"{file}: expected a first line `n_samples,n_features,class names…` as scikit-learn writes it, found \"{first}\".", file);
        if (features != featureNames.Length)
            throw new DataSetException($"{file} says it has {features} features, expected {featureNames.Length}.", file);
        return Build(file, ReadRows(file, firstLineIsHeader: true, samples, features), featureNames, head[2..].Select(c => c.Trim()).ToArray());
    }

    private static TensorDataSet Build(string file, List<double[]> rows, string[] featureNames, string[] classNames)
    {
        int f = featureNames.Length;
        var x = new float[rows.Count * f];
        var y = new long[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < f; c++) x[r * f + c] = (float)rows[r][c];
            double label = rows[r][f];
            if (label != Math.Floor(label) || label < 0 || label >= classNames.Length)
                throw new DataSetException($"{file} row {r + 1}: class {label} is not an index of [{string.Join(", ", classNames)}].", file);
            y[r] = (long)label;
        }
        var device = Course.Device;
        return new TensorDataSet(torch.tensor(x, [rows.Count, f], device: device), torch.tensor(y, [rows.Count], device: device), classNames, featureNames);
    }

    private static List<double[]> ReadRows(string file, bool firstLineIsHeader, int samples, int features)
    {
        var rows = new List<double[]>(samples);
        int lineNumber = 0;
        foreach (string line in ReadLines(file))
        {
            lineNumber++;
            if ((firstLineIsHeader && lineNumber == 1) || line.Trim().Length == 0) continue;
            string[] cells = line.Split(',');
            if (cells.Length != features + 1)
                throw new DataSetException($"{file} line {lineNumber} has {cells.Length} values, expected {features + 1} ({features} features and the class).", file);
            var row = new double[cells.Length];
            for (int c = 0; c < cells.Length; c++)
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]))
                    throw new DataSetException($"{file} line {lineNumber}: expected a number, found \"{cells[c]}\".", file);
            rows.Add(row);
        }
        if (rows.Count != samples)
            throw new DataSetException($"{file} has {rows.Count} rows, expected {samples}.", file);
        return rows;
    }

    private static IEnumerable<string> ReadLines(string file)
    {
        using var stream = System.IO.File.OpenRead(file);
        using Stream input = file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
        using var reader = new StreamReader(input);
        while (true)
        {
            string? line;
            try { line = reader.ReadLine(); }
            catch (InvalidDataException e) { throw new DataSetException($"{file} is not a valid gzip file ({e.Message}).", file, e); }
            if (line is null) yield break;
            yield return line;
        }
    }
}
