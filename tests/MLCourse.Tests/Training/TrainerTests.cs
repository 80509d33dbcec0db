using MLCourse.Data;
using MLCourse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Training;

public class TrainerTests
{
    [Fact]
    public void Fit_learns_a_separable_problem_and_records_every_epoch()
    {
        Course.Seed(0);
        // two Gaussian blobs, class = sign of x0 + x1
        var X = torch.randn(400, 2);
        var y = X.sum(1).gt(0).to(ScalarType.Int64);
        var net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2));
        var trainer = new Trainer(net, optim.Adam(net.parameters(), 0.05), nn.CrossEntropyLoss());
        var loader = new TensorLoader(X, y, 32, shuffle: true);
        var history = trainer.Fit(loader, numEpochs: 5, validation: loader);
        Assert.Equal(5, history.Count);
        Assert.True(history.Last.Validation!.Accuracy > 0.95, history.ToString());
        Assert.True(history.Last.Train.Loss < history[0].Train.Loss);
    }

    [Fact]
    public void Regression_has_no_accuracy()
    {
        Course.Seed(1);
        var X = torch.randn(64, 1);
        var y = 3 * X + 1;
        var net = nn.Linear(1, 1);
        var trainer = new Trainer(net, optim.SGD(net.parameters(), 0.1), nn.MSELoss(), classification: false);
        var history = trainer.Fit(new TensorLoader(X, y, 16), numEpochs: 20);
        Assert.Null(history.Last.Train.Accuracy);
        Assert.True(history.Last.Train.Loss < 0.01, history.Last.ToString());
    }

    [Fact]
    public void History_plots_its_curves()
    {
        var history = new History
        {
            new(1, new Evaluation(1.0, 0.5), new Evaluation(1.1, 0.4), TimeSpan.FromSeconds(1)),
            new(2, new Evaluation(0.5, 0.8), new Evaluation(0.6, 0.7), TimeSpan.FromSeconds(1)),
        };
        var html = Plotly.NET.GenericChart.toChartHTML(history.Plot());
        Assert.Contains("validation accuracy", html);
    }
}
