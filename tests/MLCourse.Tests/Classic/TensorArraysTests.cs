using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class TensorArraysTests
{
    [Fact]
    public void Kept_tensors_survive_the_dispose_scope_they_were_made_in()
    {
        torch.Tensor kept;
        using (torch.NewDisposeScope())
        {
            var t = torch.arange(3, dtype: torch.float64);
            kept = TensorArrays.Keep(t);
        }
        Assert.Equal(new[] { 0.0, 1.0, 2.0 }, kept.data<double>().ToArray());
    }

    [Fact]
    public void Rows_and_labels_check_their_shapes()
    {
        Assert.Throws<ArgumentException>(() => TensorArrays.Rows(torch.zeros(3)));
        Assert.Throws<ArgumentException>(() => TensorArrays.Labels(torch.zeros(3, 1)));
        Assert.Throws<ArgumentException>(() => TensorArrays.NumClasses([0, -1]));
        Assert.Equal(new[] { 1.0, 2.0 }, TensorArrays.Rows(torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2))[0]);
    }

    /// <summary>Notebook code may fit inside a dispose scope (as the trainer does) and use the model after it.</summary>
    [Fact]
    public void Every_model_fitted_inside_a_dispose_scope_still_predicts_after_it()
    {
        var (X, y) = Synthetic.Blobs(2, 20, seed: 71);
        KNearestNeighbors knn; GaussianNaiveBayes nb; LinearSvm svm; LogisticRegression lr;
        GaussianGenerativeClassifier ggc; KMeans km; Pca pca; DecisionTree tree; RandomForest forest;
        using (torch.NewDisposeScope())
        {
            knn = new KNearestNeighbors(3).Fit(X, y);
            nb = new GaussianNaiveBayes().Fit(X, y);
            svm = new LinearSvm(numEpochs: 50).Fit(X, y);
            lr = new LogisticRegression(numEpochs: 50).Fit(X, y);
            ggc = new GaussianGenerativeClassifier().Fit(X, y);
            km = new KMeans(2).Fit(X);
            pca = new Pca(1).Fit(X);
            tree = new DecisionTree().Fit(X, y);
            forest = new RandomForest(numTrees: 3).Fit(X, y);
        }
        foreach (var predict in new Func<torch.Tensor, torch.Tensor>[]
                 { knn.Predict, nb.Predict, svm.Predict, lr.Predict, ggc.Predict, km.Assign, tree.Predict, forest.Predict })
            Assert.Equal(40, predict(X).shape[0]);
        Assert.Equal(new long[] { 40, 1 }, pca.Transform(X).shape);
    }
}
