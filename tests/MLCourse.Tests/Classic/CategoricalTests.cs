using MLCourse.Classic;

namespace MLCourse.Tests.Classic;

public class CategoricalTests
{
    [Fact]
    public void Codes_follow_the_order_of_first_appearance()
    {
        var (X, categories) = Categorical.Encode(IncomeTable.Rows);
        Assert.Equal(new long[] { 10, 3 }, X.shape);
        Assert.Equal(new[] { "high", "low" }, categories[0]);
        Assert.Equal(new[] { "young", "middle", "old" }, categories[1]);
        Assert.Equal(new[] { "long", "short" }, categories[2]);
        Assert.Equal(new long[] { 0, 1, 1 }, X[2].data<long>().ToArray()); // high, middle, short
    }

    [Fact]
    public void Labels_are_encoded_with_their_class_names()
    {
        var (y, classes) = Categorical.EncodeLabels(IncomeTable.Income);
        Assert.Equal(new[] { "high", "low" }, classes);
        Assert.Equal(5, y.sum().item<long>());
    }

    [Fact]
    public void Ragged_rows_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Categorical.Encode(new[] { new[] { "a", "b" }, new[] { "c" } }));
    }
}
