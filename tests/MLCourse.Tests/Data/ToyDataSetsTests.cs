using MLCourse.Data;
using TorchSharp;

namespace MLCourse.Tests.Data;

public class ToyDataSetsTests
{
    private const string Debian = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    private static string? Folder() => TestData.Folder(ToyDataSets.Name, Debian);

    private static string Reason => TestData.SkipReason(ToyDataSets.Name) + $" and in {Debian} (apt-get install python3-sklearn)";

    // Reference values read with python3's csv module from Debian's python3-sklearn 1.2.1 files:
    // shapes, per-class counts, the first row's first feature and the class names of the first line.
    [SkippableFact]
    public void Iris_wine_breast_cancer_and_digits_have_their_known_shapes_and_classes()
    {
        string? folder = Folder();
        Skip.If(folder is null, Reason);
        using (var iris = ToyDataSets.Iris(folder))
        {
            Assert.Equal([150L, 4], iris.X.shape);
            Assert.Equal(["setosa", "versicolor", "virginica"], iris.ClassNames);
            Assert.Equal([50L, 50, 50], torch.bincount(iris.y).data<long>().ToArray());
            Assert.Equal(5.1f, iris.X[0, 0].item<float>());
            Assert.Equal("petal width (cm)", iris.FeatureNames[3]);
        }
        using (var wine = ToyDataSets.Wine(folder))
        {
            Assert.Equal([178L, 13], wine.X.shape);
            Assert.Equal([59L, 71, 48], torch.bincount(wine.y).data<long>().ToArray());
            Assert.Equal(14.23f, wine.X[0, 0].item<float>());
            Assert.Equal(560f, wine.X[-1, -1].item<float>());
        }
        using (var cancer = ToyDataSets.BreastCancer(folder))
        {
            Assert.Equal([569L, 30], cancer.X.shape);
            Assert.Equal(["malignant", "benign"], cancer.ClassNames);
            Assert.Equal([212L, 357], torch.bincount(cancer.y).data<long>().ToArray());
            Assert.Equal(17.99f, cancer.X[0, 0].item<float>());
            Assert.Equal(["mean radius", "radius error", "worst radius"], new[] { cancer.FeatureNames[0], cancer.FeatureNames[10], cancer.FeatureNames[20] });
        }
        using (var digits = ToyDataSets.Digits(folder))
        {
            Assert.Equal([1797L, 64], digits.X.shape);
            Assert.Equal([178L, 182, 177, 183, 181, 182, 181, 179, 174, 180], torch.bincount(digits.y).data<long>().ToArray());
            Assert.Equal(5f, digits.X[0, 2].item<float>());
            Assert.Equal(16f, digits.X.max().item<float>());
            Assert.Equal(0, digits.y[0].item<long>());
        }
    }

    [Fact]
    public void A_csv_with_a_missing_column_names_the_line()
    {
        using var dir = new TempFolder();
        dir.Text("iris.csv", "3,4,a,b,c\n1,2,3,4,0\n1,2,3,1\n1,2,3,4,2\n");
        dir.Text("wine_data.csv", "");
        dir.Text("breast_cancer.csv", "");
        dir.File("digits.csv.gz", TempFolder.Gzip([]));
        var error = Assert.Throws<DataSetException>(() => ToyDataSets.Iris(dir.Path));
        Assert.Contains("iris.csv line 3", error.Message);
        Assert.Contains("expected 5", error.Message);
    }
}
