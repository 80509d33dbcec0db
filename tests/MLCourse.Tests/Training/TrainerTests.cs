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
        var trainer = new Trainer(net, new Adam(net.parameters(), 0.05, fused: false), nn.CrossEntropyLoss());
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
        var trainer = new Trainer(net, new SGD(net.parameters(), 0.1), nn.MSELoss(), classification: false);
        var history = trainer.Fit(new TensorLoader(X, y, 16), numEpochs: 20);
        Assert.Null(history.Last.Train.Accuracy);
        Assert.True(history.Last.Train.Loss < 0.01, history.Last.ToString());
    }

    [Fact]
    public void Every_batch_is_freed_at_the_end_of_its_step()
    {
        // The trainer opens its dispose scope before it takes a batch from the loader, so the batch (a slice or an
        // indexed copy) belongs to that scope and is freed right after the step, not left to the garbage collector.
        Course.Seed(2);
        var X = torch.randn(40, 3);
        var y = torch.randint(0, 2, [40], dtype: ScalarType.Int64);
        var batches = new List<Tensor>();
        var net = new Recorder(nn.Linear(3, 2), batches);
        var trainer = new Trainer(net, new SGD(net.parameters(), 0.1), nn.CrossEntropyLoss());
        trainer.Fit(new TensorLoader(X, y, 8, shuffle: true), numEpochs: 2, validation: new TensorLoader(X, y, 16));
        trainer.Evaluate(new TensorLoader(X, y, 10));
        Assert.Equal(2 * 5 + 2 * 3 + 4, batches.Count);
        Assert.All(batches, b => Assert.True(b.IsInvalid, "a batch tensor outlived its training step"));
        Assert.False(X.IsInvalid);
    }

    [Fact]
    public void Evaluate_runs_in_evaluation_mode_and_Fit_trains_in_training_mode()
    {
        Course.Seed(3);
        var X = torch.randn(24, 3);
        var y = torch.randint(0, 2, [24], dtype: ScalarType.Int64);
        var modes = new List<bool>();
        var net = new Recorder(nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 2)), modes: modes);
        var trainer = new Trainer(net, new SGD(net.parameters(), 0.1), nn.CrossEntropyLoss());
        trainer.Fit(new TensorLoader(X, y, 8), numEpochs: 2, validation: new TensorLoader(X, y, 12));
        // per epoch: 3 training batches in training mode, then 2 validation batches in evaluation mode
        Assert.Equal([true, true, true, false, false, true, true, true, false, false], modes);
        net.train();
        modes.Clear();
        var first = trainer.Evaluate(new TensorLoader(X, y, 12));
        var second = trainer.Evaluate(new TensorLoader(X, y, 12));
        Assert.Equal([false, false, false, false], modes);
        Assert.Equal(first, second);                                      // no dropout: the same numbers twice
    }

    [Fact]
    public void The_scheduler_steps_once_per_epoch_with_TorchSharps_and_the_courses_optimizers()
    {
        Course.Seed(4);
        var X = torch.randn(32, 2);
        var y = X.sum(1).gt(0).to(ScalarType.Int64);
        foreach (Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> make in new Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer>[]
                 { p => new SGD(p, 0.4), p => new Adam(p, lr: 0.4) })
        {
            var net = nn.Linear(2, 2);
            var optimizer = make(net.parameters());
            var trainer = new Trainer(net, optimizer, nn.CrossEntropyLoss())
            {
                Scheduler = optim.lr_scheduler.StepLR(optimizer, step_size: 1, gamma: 0.5),
            };
            trainer.Fit(new TensorLoader(X, y, 8), numEpochs: 3);
            Assert.Equal(0.05, optimizer.ParamGroups.Single().LearningRate, 12);   // 0.4 · 0.5³
        }
    }

    [Fact]
    public void The_recorded_loss_and_accuracy_are_the_means_over_all_samples()
    {
        var X = torch.tensor(new float[,] { { 1, 0 }, { 0, 1 }, { 1, 0 }, { 0, 1 }, { 1, 0 } });
        var y = torch.tensor(new long[] { 0, 1, 1, 1, 0 });
        var net = nn.Linear(2, 2, hasBias: false);
        using (torch.no_grad()) net.weight!.copy_(torch.tensor(new float[,] { { 2, 0 }, { 0, 1 } }));
        var trainer = new Trainer(net, new SGD(net.parameters(), 0.0), nn.CrossEntropyLoss());
        var evaluation = trainer.Evaluate(new TensorLoader(X, y, 2));     // batches of 2, 2 and 1
        using var logits = net.call(X);
        double expectedLoss = nn.functional.cross_entropy(logits, y).item<float>();
        Assert.Equal(expectedLoss, evaluation.Loss, 5);
        Assert.Equal(0.8, evaluation.Accuracy!.Value, 12);               // sample 3 (class 1, input (1, 0)) is wrong
    }

    /// <summary>Calls a module and records its inputs and/or its training mode at every call.</summary>
    private sealed class Recorder : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> inner;
        private readonly List<Tensor>? inputs;
        private readonly List<bool>? modes;

        public Recorder(nn.Module<Tensor, Tensor> inner, List<Tensor>? inputs = null, List<bool>? modes = null) : base("Recorder")
        {
            this.inner = inner;
            this.inputs = inputs;
            this.modes = modes;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            inputs?.Add(x);
            modes?.Add(training);
            return inner.call(x);
        }
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
