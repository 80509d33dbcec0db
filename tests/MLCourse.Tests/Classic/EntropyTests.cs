using MLCourse.Classic;

namespace MLCourse.Tests.Classic;

/// <summary>
/// The ID3 worked example of seed 004. Every expected number was computed independently with python3
/// (math.log2), not copied from the notes:
///   H(D)             = 1                         (5 high / 5 low)
///   H(D|education)   = 0.6·H(4/6) + 0.4·H(1/4) = 0.6·0.918296 + 0.4·0.811278 = 0.875489
///   IG(education)    = 0.124511
///   IG(age)          = 0.4 (H(D|age) = 0.4·0.811278 + 0.3·0 + 0.3·0.918296 = 0.6)
///   IG(hours)        = 0.278072 (H(D|hours) = H(1/5) = 0.721928)
///   gain ratio(edu)  = 0.124511 / 0.970951 = 0.128236
///   gain ratio(age)  = 0.4 / 1.570951 = 0.254623
///   gain ratio(hours)= 0.278072 / 1 = 0.278072
/// The notes write the formulas for H(D) and H(D|A) but stop at "IG(D|A) = ⋯" without a number.
/// </summary>
public class EntropyTests
{
    private const double Tol = 1e-6;

    [Fact]
    public void Entropy_of_the_balanced_income_labels_is_one_bit()
    {
        Assert.Equal(1.0, Entropy.Of(IncomeTable.Income), Tol);
        Assert.Equal(1.0, Entropy.FromCounts(5, 5), Tol);
    }

    [Fact]
    public void Entropy_of_the_education_branches_matches_the_hand_computation()
    {
        Assert.Equal(0.918296, Entropy.FromCounts(4, 2), Tol); // education = high: 4 high, 2 low
        Assert.Equal(0.811278, Entropy.FromCounts(1, 3), Tol); // education = low: 1 high, 3 low
    }

    [Fact]
    public void Conditional_entropy_and_gain_of_education_match_the_worked_example()
    {
        var education = IncomeTable.Column(0);
        Assert.Equal(0.875489, Entropy.Conditional(education, IncomeTable.Income), Tol);
        Assert.Equal(0.124511, Entropy.InformationGain(education, IncomeTable.Income), Tol);
    }

    [Fact]
    public void Information_gain_prefers_age_but_gain_ratio_prefers_hours()
    {
        var y = IncomeTable.Income;
        Assert.Equal(0.6, Entropy.Conditional(IncomeTable.Column(1), y), Tol);
        Assert.Equal(0.4, Entropy.InformationGain(IncomeTable.Column(1), y), Tol);
        Assert.Equal(0.278072, Entropy.InformationGain(IncomeTable.Column(2), y), Tol);

        Assert.Equal(0.970951, Entropy.SplitInformation(IncomeTable.Column(0)), Tol);
        Assert.Equal(1.570951, Entropy.SplitInformation(IncomeTable.Column(1)), Tol);
        Assert.Equal(0.128236, Entropy.GainRatio(IncomeTable.Column(0), y), Tol);
        Assert.Equal(0.254623, Entropy.GainRatio(IncomeTable.Column(1), y), Tol);
        Assert.Equal(0.278072, Entropy.GainRatio(IncomeTable.Column(2), y), Tol);
    }

    [Fact]
    public void A_pure_set_has_zero_entropy_and_zero_gini()
    {
        Assert.Equal(0.0, Entropy.Of(new[] { 1, 1, 1 }));
        Assert.Equal(0.0, Entropy.Gini(new[] { "a", "a" }));
    }

    [Fact]
    public void Gini_index_matches_hand_computation()
    {
        Assert.Equal(0.5, Entropy.Gini(IncomeTable.Income), Tol);          // 1 − 0.5² − 0.5²
        Assert.Equal(4.0 / 9, Entropy.GiniFromCounts(4, 2), Tol);           // 1 − (2/3)² − (1/3)²
        Assert.Equal(2.0 / 3, Entropy.GiniFromCounts(1, 1, 1), Tol);        // three equal classes
    }

    [Fact]
    public void A_single_valued_feature_has_zero_gain_and_zero_gain_ratio()
    {
        var constant = Enumerable.Repeat("same", 10).ToArray();
        Assert.Equal(0.0, Entropy.InformationGain(constant, IncomeTable.Income), Tol);
        Assert.Equal(0.0, Entropy.GainRatio(constant, IncomeTable.Income));
    }
}
