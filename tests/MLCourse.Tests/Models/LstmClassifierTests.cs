using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class LstmClassifierTests
{
    [Theory]
    [InlineData(1, SequencePooling.Mean)]
    [InlineData(2, SequencePooling.Last)]
    public void It_counts_its_parameters_and_returns_one_row_of_logits_per_sequence(int layers, SequencePooling pooling)
    {
        var config = new LstmClassifierConfig(VocabSize: 50, EmbeddingDim: 8, Hidden: 6, Classes: 3, Layers: layers, Pooling: pooling);
        var model = new LstmClassifier(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), config.ParameterCount());
        using var logits = model.call(torch.randint(1, 50, new long[] { 4, 7 }));
        Assert.Equal(new long[] { 4, 3 }, logits.shape);
    }

    [Fact]
    public void One_layer_of_the_default_size_has_the_textbook_count()
    {
        // embedding 1000·64, LSTM 4·64·(64 + 64) + 8·64, linear 64·2 + 2
        Assert.Equal(64_000 + 33_280 + 130, new LstmClassifierConfig(VocabSize: 1000).ParameterCount());
    }

    [Theory]
    [InlineData(SequencePooling.Mean)]
    [InlineData(SequencePooling.Last)]
    public void Extra_padding_does_not_change_the_logits(SequencePooling pooling)
    {
        torch.manual_seed(1);
        var model = new LstmClassifier(new LstmClassifierConfig(VocabSize: 20, EmbeddingDim: 5, Hidden: 4, Pooling: pooling));
        var tokens = torch.tensor(new long[,] { { 3, 4, 5, 0 }, { 7, 8, 0, 0 } });
        var padded = torch.cat([tokens, torch.zeros(2, 6, dtype: int64)], 1);          // (2, 10)
        using var noGrad = torch.no_grad();
        Assert.True(model.call(tokens).allclose(model.call(padded), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Last_pooling_takes_the_hidden_state_at_the_last_real_token()
    {
        torch.manual_seed(2);
        var model = new LstmClassifier(new LstmClassifierConfig(VocabSize: 20, EmbeddingDim: 5, Hidden: 4, Pooling: SequencePooling.Last));
        using var noGrad = torch.no_grad();
        var alone = model.Encode(torch.tensor(new long[,] { { 9, 2, 6 } }));            // (1, 4), no padding
        var inBatch = model.Encode(torch.tensor(new long[,] { { 1, 1, 1, 1, 1 }, { 9, 2, 6, 0, 0 } }));
        Assert.True(alone[0].allclose(inBatch[1], rtol: 1e-5, atol: 1e-6));
        // and it is not the state after the padding (a different sequence of inputs)
        var throughPadding = model.Encode(torch.tensor(new long[,] { { 9, 2, 6, 11, 11 } }));
        Assert.False(alone[0].allclose(throughPadding[0], rtol: 1e-3, atol: 1e-4));
    }

    [Fact]
    public void It_learns_whether_a_sequence_contains_token_3()
    {
        torch.manual_seed(0);
        var tokens = torch.randint(4, 12, new long[] { 64, 6 });
        var y = torch.arange(64) % 2;
        for (int i = 0; i < 64; i += 2) tokens[i, i % 6] = torch.tensor(3L);                     // even rows contain a 3
        var model = new LstmClassifier(new LstmClassifierConfig(VocabSize: 12, EmbeddingDim: 8, Hidden: 16, Pooling: SequencePooling.Mean));
        var optimizer = new MLCourse.Training.Adam(model.parameters(), 0.02, fused: false);
        for (int step = 0; step < 80; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(tokens), 1 - y).backward();
            optimizer.step();
        }
        using var predicted = model.call(tokens).argmax(1);
        Assert.Equal(64, predicted.eq(1 - y).sum().item<long>());
    }
}
