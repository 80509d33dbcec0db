namespace MLCourse.Classic;

/// <summary>
/// Impurity measures behind decision trees (决策树): entropy (熵) H(D) = -Σ p_k log₂ p_k, conditional entropy
/// H(D|A) = Σ |D_i|/|D| H(D_i), information gain (信息增益) H(D) − H(D|A), gain ratio (信息增益比) and the Gini index.
/// Entropies are in bits (log base 2), as in the lecture notes. Introduced in chapter 03 (classic machine learning).
/// </summary>
public static class Entropy
{
    /// <summary>Entropy in bits of a list of labels: H(D) = -Σ_k |C_k|/|D| log₂(|C_k|/|D|).</summary>
    public static double Of<T>(IEnumerable<T> labels) where T : notnull
        => FromCounts(labels.GroupBy(l => l).Select(g => (long)g.Count()).ToArray());

    /// <summary>Entropy in bits of a distribution given by class counts, e.g. <c>FromCounts(4, 2)</c> ≈ 0.918.</summary>
    public static double FromCounts(params long[] counts)
    {
        double n = counts.Sum();
        if (n <= 0) return 0;
        double h = 0;
        foreach (long c in counts)
            if (c > 0) h -= c / n * Math.Log2(c / n);
        return h;
    }

    /// <summary>
    /// Conditional entropy H(D|A) = Σ_i |D_i|/|D| H(D_i): split the labels by the value of feature A, then average
    /// the entropies of the parts weighted by their sizes.
    /// </summary>
    /// <param name="feature">The value of A for each sample.</param>
    /// <param name="labels">The label of each sample (same length).</param>
    public static double Conditional<TFeature, TLabel>(IReadOnlyList<TFeature> feature, IReadOnlyList<TLabel> labels)
        where TFeature : notnull where TLabel : notnull
    {
        if (feature.Count != labels.Count) throw new ArgumentException($"feature has {feature.Count} values but labels has {labels.Count}.");
        double n = labels.Count;
        return Enumerable.Range(0, labels.Count)
            .GroupBy(i => feature[i])
            .Sum(g => g.Count() / n * Of(g.Select(i => labels[i])));
    }

    /// <summary>Information gain IG(D|A) = H(D) − H(D|A), the ID3 split criterion.</summary>
    public static double InformationGain<TFeature, TLabel>(IReadOnlyList<TFeature> feature, IReadOnlyList<TLabel> labels)
        where TFeature : notnull where TLabel : notnull
        => Of(labels) - Conditional(feature, labels);

    /// <summary>Split information H_A(D) = -Σ_i |D_i|/|D| log₂(|D_i|/|D|): the entropy of the feature's own values.</summary>
    public static double SplitInformation<TFeature>(IReadOnlyList<TFeature> feature) where TFeature : notnull
        => Of(feature);

    /// <summary>
    /// Gain ratio IG(D|A) / H_A(D) (C4.5): penalises features with many values, which plain information gain favours.
    /// Zero when the feature has a single value.
    /// </summary>
    public static double GainRatio<TFeature, TLabel>(IReadOnlyList<TFeature> feature, IReadOnlyList<TLabel> labels)
        where TFeature : notnull where TLabel : notnull
    {
        double split = SplitInformation(feature);
        return split <= 0 ? 0 : InformationGain(feature, labels) / split;
    }

    /// <summary>Gini index 1 − Σ_k p_k² of a list of labels (the CART impurity).</summary>
    public static double Gini<T>(IEnumerable<T> labels) where T : notnull
        => GiniFromCounts(labels.GroupBy(l => l).Select(g => (long)g.Count()).ToArray());

    /// <summary>Gini index 1 − Σ_k p_k² of a distribution given by class counts.</summary>
    public static double GiniFromCounts(params long[] counts)
    {
        double n = counts.Sum();
        if (n <= 0) return 0;
        return 1 - counts.Sum(c => (c / n) * (c / n));
    }
}
