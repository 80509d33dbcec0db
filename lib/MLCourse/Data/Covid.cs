using System.Globalization;
using Microsoft.Data.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Data;

/// <summary>Which year's HW1 of Hung-yi Lee's Machine Learning course. Introduced in chapter 01.</summary>
public enum CovidYear
{
    /// <summary>ML 2021 Spring: 40 states + 3 days x 18 features, target <c>tested_positive</c> of day 3.</summary>
    Y2021,
    /// <summary>ML 2022 Spring: 37 states + 5 days x 16 features, target <c>tested_positive</c> of day 5.</summary>
    Y2022,
}

/// <summary>
/// One part (train, validation or test) of the COVID-19 HW1 data: tensors on <see cref="Course.Device"/> and
/// the same rows as a <see cref="DataFrame"/>. Introduced in chapter 01 (linear regression).
/// </summary>
public sealed class CovidPart : IDisposable
{
    internal CovidPart(Tensor X, Tensor? y, long[] ids, DataFrame frame, IReadOnlyList<string> featureNames)
    {
        this.X = X;
        this.y = y;
        Ids = ids;
        Frame = frame;
        FeatureNames = featureNames;
    }

    /// <summary>Features, float32 [N, F]: every column except <c>id</c> and the target, in file order.</summary>
    public Tensor X { get; }

    /// <summary>Target <c>tested_positive</c> (last day), float32 [N]; null for the test part, which has no labels.</summary>
    public Tensor? y { get; }

    /// <summary>The <c>id</c> column of each row (what a submission file lists).</summary>
    public long[] Ids { get; }

    /// <summary>The rows as a data frame: <c>id</c>, the features and (train, validation) the target, with de-duplicated names.</summary>
    public DataFrame Frame { get; }

    /// <summary>Name of each column of <see cref="X"/>.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Number of rows.</summary>
    public long Count => X.shape[0];

    /// <summary>Mini-batches of (X, y); not available for the test part.</summary>
    public TensorLoader Loader(int batchSize, bool shuffle = false, long seed = 0, bool dropLast = false) =>
        new(X, y ?? throw new InvalidOperationException("The test part has no target: use X for predictions."), batchSize, shuffle, seed, dropLast);

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        X.Dispose();
        y?.Dispose();
    }
}

/// <summary>The COVID-19 HW1 data split into train, validation and test. Introduced in chapter 01.</summary>
public sealed class CovidData : IDisposable
{
    internal CovidData(CovidYear year, CovidPart train, CovidPart validation, CovidPart test, string targetName, double fraction, int seed)
    {
        Year = year;
        Train = train;
        Validation = validation;
        Test = test;
        TargetName = targetName;
        ValidationFraction = fraction;
        Seed = seed;
    }

    /// <summary>Which homework.</summary>
    public CovidYear Year { get; }

    /// <summary>The rows of covid.train.csv not in <see cref="Validation"/>, in file order.</summary>
    public CovidPart Train { get; }

    /// <summary>The held-out rows of covid.train.csv (see <see cref="Covid.Load"/>), in file order.</summary>
    public CovidPart Validation { get; }

    /// <summary>covid.test.csv: features only.</summary>
    public CovidPart Test { get; }

    /// <summary>Names of the feature columns (the columns of <c>X</c>).</summary>
    public IReadOnlyList<string> FeatureNames => Train.FeatureNames;

    /// <summary>The target column's name in the frames (e.g. <c>tested_positive.2</c> for 2021's day 3).</summary>
    public string TargetName { get; }

    /// <summary>The fraction of covid.train.csv held out for validation.</summary>
    public double ValidationFraction { get; }

    /// <summary>The seed of the validation permutation.</summary>
    public int Seed { get; }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"COVID-19 HW1 {Year}: {FeatureNames.Count} features, target {TargetName}; train {Train.Count}, validation {Validation.Count}, test {Test.Count}";
}

/// <summary>
/// Hung-yi Lee's ML 2021/2022 HW1 (COVID-19 cases prediction, regression) data: covid.train.csv with the target
/// <c>tested_positive</c> of the last day in the last column, covid.test.csv without it.
/// Introduced in chapter 01 (linear regression); homework 1 uses it.
/// </summary>
/// <remarks>
/// The validation split is FIXED: row indices 0..N-1 of covid.train.csv are shuffled with
/// <c>new Random(seed).Shuffle(indices)</c> (seed <see cref="ValidationSeed"/> = 5201314, the seed of the 2022
/// homework), the first <c>round(N x fraction)</c> of them (fraction <see cref="DefaultValidationFraction"/> = 0.2)
/// are the validation rows and the rest the training rows; both parts keep file order. Seeded
/// <see cref="Random"/> is stable across .NET versions, so everyone gets the same split: 2021 gives 2160 training
/// and 540 validation rows, 2022 gives 2159 and 540.
/// Columns with repeated names (one group per day) are renamed pandas-style: <c>cli</c>, <c>cli.1</c>, <c>cli.2</c>.
/// </remarks>
public static class Covid
{
    /// <summary>The seed of the fixed validation split.</summary>
    public const int ValidationSeed = 5201314;

    /// <summary>The fraction of covid.train.csv held out for validation.</summary>
    public const double DefaultValidationFraction = 0.2;

    /// <summary>The target column (before de-duplication: every day has one; the last day's is the target).</summary>
    public const string Target = "tested_positive";

    /// <summary>The set's name in <c>data/datasets.json</c> (and its folder) for a year.</summary>
    public static string SetName(CovidYear year) => year switch
    {
        CovidYear.Y2021 => "hylee-ml2021-hw1-covid",
        CovidYear.Y2022 => "hylee-ml2022-hw1-covid",
        _ => throw new ArgumentOutOfRangeException(nameof(year)),
    };

    /// <summary>
    /// Loads covid.train.csv (split into train and validation, see remarks) and covid.test.csv.
    /// <paramref name="path"/> is the folder holding them; when null the set is looked up.
    /// </summary>
    public static CovidData Load(CovidYear year, string? path = null, double validationFraction = DefaultValidationFraction, int seed = ValidationSeed)
    {
        if (validationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validationFraction), "must be in [0, 1).");
        string folder = DataLocator.Find(DataManifest.Get(SetName(year)), path);
        string trainPath = Path.Combine(folder, "covid.train.csv"), testPath = Path.Combine(folder, "covid.test.csv");
        var (header, rows) = ReadCsv(trainPath);
        if (header[0] != "id" || header[^1] != Target)
            throw new DataSetException(
                $"{trainPath} must start with column `id` and end with the target `{Target}`; found `{header[0]}` … `{header[^1]}`.", trainPath);
        var (testHeader, testRows) = ReadCsv(testPath);
        var missing = header[..^1].Where((name, i) => i >= testHeader.Length || testHeader[i] != name).Distinct().ToArray();
        if (missing.Length > 0 || testHeader.Length != header.Length - 1)
            throw new DataSetException(
                $"{testPath} must have the columns of covid.train.csv without the target ({header.Length - 1} columns); "
                + $"it has {testHeader.Length}" + (missing.Length > 0 ? $" and lacks or misplaces: {string.Join(", ", missing.Take(5))}." : "."), testPath);

        string[] names = Deduplicate(header);
        string[] features = names[1..^1];
        var (trainRows, validationRows) = Split(rows.Count, validationFraction, seed);
        var parts = new List<CovidPart>();
        try
        {
            parts.Add(Part(rows, trainRows, names, features, withTarget: true));
            parts.Add(Part(rows, validationRows, names, features, withTarget: true));
            parts.Add(Part(testRows, Enumerable.Range(0, testRows.Count).ToArray(), names[..^1], features, withTarget: false));
        }
        catch
        {
            parts.ForEach(p => p.Dispose());
            throw;
        }
        return new CovidData(year, parts[0], parts[1], parts[2], names[^1], validationFraction, seed);
    }

    /// <summary>The row indices of the training and validation parts (each ascending).</summary>
    internal static (int[] Train, int[] Validation) Split(int count, double fraction, int seed)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        int validation = (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero);
        return (order[validation..].Order().ToArray(), order[..validation].Order().ToArray());
    }

    private static CovidPart Part(List<double[]> rows, int[] index, string[] columns, string[] features, bool withTarget)
    {
        int f = features.Length;
        var x = new float[index.Length * f];
        var target = new float[index.Length];
        var ids = new long[index.Length];
        for (int r = 0; r < index.Length; r++)
        {
            double[] row = rows[index[r]];
            ids[r] = (long)row[0];
            for (int c = 0; c < f; c++) x[r * f + c] = (float)row[c + 1];
            if (withTarget) target[r] = (float)row[^1];
        }
        var frame = new DataFrame(new Int64DataFrameColumn("id", ids));
        for (int c = 1; c < columns.Length; c++)
        {
            int column = c;
            frame.Columns.Add(new DoubleDataFrameColumn(columns[c], index.Select(i => rows[i][column])));
        }
        var device = Course.Device;
        var X = torch.tensor(x, [index.Length, f], device: device);
        var y = withTarget ? torch.tensor(target, [index.Length], device: device) : null;
        return new CovidPart(X, y, ids, frame, features);
    }

    /// <summary>Pandas-style names for repeated columns: <c>cli</c>, <c>cli.1</c>, <c>cli.2</c>.</summary>
    internal static string[] Deduplicate(string[] header)
    {
        var seen = new Dictionary<string, int>();
        return header.Select(name =>
        {
            int n = seen.GetValueOrDefault(name);
            seen[name] = n + 1;
            return n == 0 ? name : $"{name}.{n}";
        }).ToArray();
    }

    /// <summary>Reads an all-numeric CSV with a header line; every row must have every column.</summary>
    internal static (string[] Header, List<double[]> Rows) ReadCsv(string path)
    {
        if (!File.Exists(path)) throw new DataSetException($"{path} is missing.", path);
        using var reader = new StreamReader(path);
        string[] header = (reader.ReadLine() ?? throw new DataSetException($"{path} is empty; expected a header line.", path))
            .Split(',').Select(h => h.Trim()).ToArray();
        var rows = new List<double[]>();
        int lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            string[] cells = line.Split(',');
            if (cells.Length != header.Length)
                throw new DataSetException($"{path} line {lineNumber} has {cells.Length} values, expected {header.Length} (one per column of the header).", path);
            var row = new double[cells.Length];
            for (int c = 0; c < cells.Length; c++)
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]))
                    throw new DataSetException($"{path} line {lineNumber}, column `{header[c]}`: expected a number, found \"{cells[c]}\".", path);
            rows.Add(row);
        }
        return (header, rows);
    }
}
