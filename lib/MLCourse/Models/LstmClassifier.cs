using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>How a <see cref="LstmClassifier"/> turns the hidden states of a sequence into one vector. Introduced in chapter 07 (RNN).</summary>
public enum SequencePooling
{
    /// <summary>The hidden state at the last real (non-padding) token.</summary>
    Last,
    /// <summary>The mean of the hidden states over the real tokens (padding masked out).</summary>
    Mean,
}

/// <summary>Hyper-parameters of a <see cref="LstmClassifier"/>. Introduced in chapter 07 (RNN).</summary>
/// <param name="VocabSize">Number of token ids, padding included.</param>
/// <param name="EmbeddingDim">Length of each word vector (词向量).</param>
/// <param name="Hidden">Size of the LSTM's hidden state h and cell state c.</param>
/// <param name="Classes">Outputs (logits).</param>
/// <param name="Layers">Stacked LSTM layers.</param>
/// <param name="Pooling">Last hidden state or masked mean of all hidden states.</param>
/// <param name="PaddingIndex">The token id that pads short sequences on the right; its embedding stays zero.</param>
public sealed record LstmClassifierConfig(int VocabSize, int EmbeddingDim = 64, int Hidden = 64, int Classes = 2, int Layers = 1,
                                          SequencePooling Pooling = SequencePooling.Mean, long PaddingIndex = 0)
{
    /// <summary>Number of trainable parameters of the model this config builds (PyTorch's LSTM has two bias vectors per layer).</summary>
    public long ParameterCount()
    {
        long count = (long)VocabSize * EmbeddingDim;
        for (int layer = 0; layer < Layers; layer++)
        {
            long input = layer == 0 ? EmbeddingDim : Hidden;
            count += 4L * Hidden * (input + Hidden) + 8L * Hidden;               // W_ih, W_hh, b_ih, b_hh for the 4 gates
        }
        return count + (long)Hidden * Classes + Classes;
    }
}

/// <summary>
/// A sequence classifier (many-to-one, 多对一): token ids → embedding (词嵌入) → LSTM (长短期记忆网络) → one vector per
/// sequence (the hidden state at the last real token, or the mean over real tokens) → linear layer → logits.
/// Sequences are padded on the right with <see cref="LstmClassifierConfig.PaddingIndex"/>; a padding mask keeps the
/// padding out of the pooled vector, so the logits of a sentence do not depend on how much padding its batch needs.
/// Introduced in chapter 07 (RNN).
/// </summary>
public sealed class LstmClassifier : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding embedding;
    private readonly TorchSharp.Modules.LSTM lstm;
    private readonly TorchSharp.Modules.Linear classifier;

    /// <summary>Builds the network described by <paramref name="config"/> with PyTorch's default initialisation.</summary>
    public LstmClassifier(LstmClassifierConfig config) : base("LstmClassifier")
    {
        Config = config;
        embedding = nn.Embedding(config.VocabSize, config.EmbeddingDim, padding_idx: config.PaddingIndex);
        lstm = nn.LSTM(config.EmbeddingDim, config.Hidden, numLayers: config.Layers, batchFirst: true);
        classifier = nn.Linear(config.Hidden, config.Classes);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public LstmClassifierConfig Config { get; }

    /// <summary>The pooled sequence vectors (B, Hidden) of right-padded token ids (B, T).</summary>
    public Tensor Encode(Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var mask = tokens.ne(Config.PaddingIndex).to(float32);                   // (B, T) 1 for real tokens
        var vectors = embedding.call(tokens);                                      // (B, T, E)
        var (states, hN, cN) = lstm.call(vectors, null);                            // states (B, T, H)
        var lengths = mask.sum(1);                                                  // (B,)
        Tensor pooled;
        if (Config.Pooling == SequencePooling.Mean)
        {
            var summed = (states * mask.unsqueeze(-1)).sum(1);                     // (B, H)
            pooled = summed / lengths.clamp_min(1).unsqueeze(-1);                   // (B, H)
        }
        else
        {
            var last = (lengths.to(int64) - 1).clamp_min(0);                       // (B,) index of the last real token
            var index = last.view(-1, 1, 1).expand(-1, 1, states.shape[2]);        // (B, 1, H)
            pooled = states.gather(1, index).squeeze(1);                            // (B, H)
        }
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>Logits (B, Classes) of right-padded token ids (B, T).</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var pooled = Encode(tokens);
        return classifier.call(pooled);
    }
}
