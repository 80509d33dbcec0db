namespace MLCourse.Tests.Classic;

/// <summary>
/// The 10-sample income table of the decision-tree worked example (seed 004, SJTU SE3332 notes). The notes give
/// only the counts: income 5 high / 5 low; education high → 4 high, 2 low; education low → 1 high, 3 low.
/// The rows below are one table with those counts; age and hours are our own additions so the tree has choices.
/// Counts per attribute (high/low income):
///   education: high 4/2, low 1/3
///   age:       young 1/3, middle 3/0, old 1/2
///   hours:     long 4/1, short 1/4
/// </summary>
internal static class IncomeTable
{
    public static readonly string[] FeatureNames = ["education", "age", "hours"];

    public static readonly string[][] Rows =
    [
        ["high", "young", "long"],
        ["high", "middle", "long"],
        ["high", "middle", "short"],
        ["high", "old", "long"],
        ["high", "young", "short"],
        ["high", "old", "short"],
        ["low", "middle", "long"],
        ["low", "young", "short"],
        ["low", "old", "short"],
        ["low", "young", "long"],
    ];

    public static readonly string[] Income = ["high", "high", "high", "high", "low", "low", "high", "low", "low", "low"];

    public static string[] Column(int j) => Rows.Select(r => r[j]).ToArray();
}
