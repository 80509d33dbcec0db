using System.Diagnostics;
using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Cli.Bench;

/// <summary>
/// The fine-tuning step of hw-imdb-bert, timed: a BERT of all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12 heads,
/// 1,536-wide feed-forward, bert-base-uncased's 30,522-token vocabulary) with a mean-pooled two-class head, trained
/// with AdamW (10⁻⁴, weight decay 0.01) on batches of 16 sequences of 256 tokens, every token real — as the
/// homework's full mode, where most reviews fill all 256 places. The weights are BERT's random initialisation, not
/// MiniLM's: time per step does not depend on their values, and the PyTorch reference (bench/pytorch_reference.py,
/// <c>--model bert</c>) builds the same network in the same order. An "epoch" is <see cref="StepsPerEpoch"/> steps; a
/// "training image" is one sequence (× 256 for tokens). Inference: batches of 64 sequences without gradients.
/// </summary>
internal static class BertWorker
{
    public const int BatchSize = 16, Length = 256, StepsPerEpoch = 8, InferenceBatch = 64, InferenceBatches = 4;
    public static readonly BertConfig Shape = new(Hidden: 384, Layers: 6, Heads: 12, Intermediate: 1536);

    public static TrainingResult Run(WorkerSpec spec)
    {
        var started = Stopwatch.StartNew();
        torch.set_num_threads(spec.Threads);
        Course.Device = torch.CPU;
        Course.Seed(spec.Seed);
        var encoder = new Bert(Shape);
        var head = nn.Linear(Shape.Hidden, 2);
        var parameters = encoder.parameters().Concat(head.parameters()).ToList();
        var optimizer = optim.AdamW(parameters, 1e-4, weight_decay: 0.01);
        var ids = torch.randint(1000, Shape.VocabSize, [StepsPerEpoch * BatchSize, Length]);
        var mask = torch.ones([StepsPerEpoch * BatchSize, Length], dtype: ScalarType.Int64);
        var labels = torch.randint(0, 2, [StepsPerEpoch * BatchSize]);
        double setupSeconds = started.Elapsed.TotalSeconds;

        Tensor Logits(Tensor batchIds, Tensor batchMask)
        {
            var hidden = encoder.call(batchIds, batchMask);
            var weights = batchMask.to(ScalarType.Float32).unsqueeze(-1);
            return head.call((hidden * weights).sum(1) / weights.sum(1));
        }

        var epochs = new List<EpochResult>();
        encoder.train();
        for (int epoch = 1; epoch <= spec.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            for (int step = 0; step < StepsPerEpoch; step++)
            {
                using var scope = torch.NewDisposeScope();
                var loss = nn.functional.cross_entropy(
                    Logits(ids.narrow(0, step * BatchSize, BatchSize), mask.narrow(0, step * BatchSize, BatchSize)),
                    labels.narrow(0, step * BatchSize, BatchSize));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            epochs.Add(new EpochResult(epoch, seconds, StepsPerEpoch * BatchSize / seconds, TrainingWorker.RssMb(), lossSum / StepsPerEpoch, double.NaN));
        }

        encoder.eval();
        double inferenceSeconds = 0;
        using (torch.no_grad())
            for (int repeat = 0; repeat < 2; repeat++)   // the first pass warms up; the second is timed
            {
                var clock = Stopwatch.StartNew();
                for (int b = 0; b < InferenceBatches; b++)
                {
                    using var scope = torch.NewDisposeScope();
                    int start = (b * InferenceBatch) % (StepsPerEpoch * BatchSize - InferenceBatch + 1);
                    Logits(ids.narrow(0, start, InferenceBatch), mask.narrow(0, start, InferenceBatch)).argmax(1).sum().item<long>();
                }
                inferenceSeconds = clock.Elapsed.TotalSeconds;
            }

        return TrainingWorker.Result(spec, StepsPerEpoch * BatchSize, BatchSize, setupSeconds, epochs, double.NaN,
                                     InferenceBatches * InferenceBatch / inferenceSeconds);
    }
}
