using MLCourse.Data;

namespace MLCourse.Tests.Data;

public class DataLocatorTests
{
    private static readonly DataSetInfo FashionMnistSet = DataCatalog.Get(FashionMnist.Name);

    [Fact]
    public void The_lookup_order_is_variable_repository_cache_then_system_folders()
    {
        var folders = DataLocator.Candidates(FashionMnistSet, null, "/data", "/repo", "/home/u/.cache/mlcourse");
        Assert.Equal(["/data/fashion-mnist", "/repo/data/fashion-mnist", "/home/u/.cache/mlcourse/fashion-mnist", "/usr/share/datasets/fashion-mnist"], folders);
    }

    [Fact]
    public void An_explicit_path_replaces_every_other_place() =>
        Assert.Equal(["/mine"], DataLocator.Candidates(FashionMnistSet, "/mine", "/data", "/repo", "/cache"));

    [Fact]
    public void Unset_places_are_left_out() =>
        Assert.Equal(["/cache/mnist"], DataLocator.Candidates(DataCatalog.Get(Mnist.Name), null, "", null, "/cache"));

    [Fact]
    public void The_cache_follows_XDG_CACHE_HOME_else_the_home_folder()
    {
        Assert.Equal("/xdg/mlcourse", DataLocator.CacheRoot("/xdg", "/home/u"));
        Assert.Equal("/home/u/.cache/mlcourse", DataLocator.CacheRoot(null, "/home/u"));
    }

    [Fact]
    public void A_folder_counts_only_when_it_holds_every_file_of_a_layout()
    {
        using var first = new TempFolder();
        using var second = new TempFolder();
        var set = DataCatalog.Get("hylee-ml2022-hw1-covid");
        first.Text("covid.train.csv", "partial");
        second.Text("covid.train.csv", "x");
        second.Text("covid.test.csv", "y");
        Assert.Null(DataLocator.TryFind(set, first.Path));
        Assert.Equal(second.Path, DataLocator.TryFind(set, second.Path)?.Folder);
        var error = Assert.Throws<DataSetException>(() => DataLocator.Find(set, first.Path));
        Assert.Contains("mlcourse data fetch hylee-ml2022-hw1-covid", error.Message);
        Assert.Contains("covid.test.csv", error.Message);
    }
}
