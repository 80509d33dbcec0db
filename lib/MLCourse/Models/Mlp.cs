using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>The nonlinearity between the layers of an <see cref="Mlp"/>. Introduced in chapter 04 (deep learning).</summary>
public enum Activation
{
    /// <summary>max(0, x).</summary>
    ReLU,
    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>x·Φ(x), the Gaussian error linear unit.</summary>
    GELU,
}

/// <summary>Hyper-parameters of an <see cref="Mlp"/>. Introduced in chapter 04 (deep learning).</summary>
/// <param name="InputSize">Features per sample after flattening (784 for a 28×28 image).</param>
/// <param name="HiddenSizes">Width of each hidden layer, input side first; empty gives a linear model.</param>
/// <param name="OutputSize">Outputs: classes (logits) or regression targets.</param>
/// <param name="Activation">Nonlinearity after every hidden layer.</param>
/// <param name="BatchNorm">Batch normalization after each hidden linear layer, before the activation (chapter 05).</param>
public sealed record MlpConfig(int InputSize = 784, int[]? HiddenSizes = null, int OutputSize = 10,
                               Activation Activation = Activation.ReLU, bool BatchNorm = false)
{
    /// <summary>The hidden widths (256 when none are given).</summary>
    public int[] Hidden => HiddenSizes ?? [256];

    /// <summary>Named presets the chapters use.</summary>
    public static IReadOnlyDictionary<string, MlpConfig> Presets { get; } = new Dictionary<string, MlpConfig>
    {
        ["xor"] = new(InputSize: 2, HiddenSizes: [4], OutputSize: 2, Activation: Activation.Tanh),
        ["mnist-256"] = new(InputSize: 784, HiddenSizes: [256], OutputSize: 10),
        ["mnist-256-128"] = new(InputSize: 784, HiddenSizes: [256, 128], OutputSize: 10),
        ["covid-16"] = new(InputSize: 16, HiddenSizes: [16], OutputSize: 1),
    };

    /// <summary>Number of trainable parameters of the model this config builds (weights and biases; γ, β of batch norm).</summary>
    public long ParameterCount()
    {
        long count = 0;
        int fanIn = InputSize;
        foreach (int width in Hidden)
        {
            count += (long)fanIn * width + width + (BatchNorm ? 2L * width : 0);
            fanIn = width;
        }
        return count + (long)fanIn * OutputSize + OutputSize;
    }
}

/// <summary>
/// A multilayer perceptron (多层感知机): flatten, then [linear → (batch norm) → activation] per hidden layer, then a
/// final linear layer with no activation (logits for classification, values for regression).
/// Introduced in chapter 04 (deep learning).
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> layers;

    /// <summary>Builds the network described by <paramref name="config"/> with PyTorch's default initialisation.</summary>
    public Mlp(MlpConfig config) : base("Mlp")
    {
        Config = config;
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int fanIn = config.InputSize, index = 0;
        foreach (int width in config.Hidden)
        {
            modules.Add(($"{index++}", nn.Linear(fanIn, width)));
            if (config.BatchNorm) modules.Add(($"{index++}", nn.BatchNorm1d(width)));
            modules.Add(($"{index++}", MakeActivation(config.Activation)));
            fanIn = width;
        }
        modules.Add(($"{index}", nn.Linear(fanIn, config.OutputSize)));
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    /// <summary>Builds an MLP from sizes: <c>new Mlp(784, [256], 10)</c>.</summary>
    public Mlp(int inputSize, int[] hiddenSizes, int outputSize, Activation activation = Activation.ReLU, bool batchNorm = false)
        : this(new MlpConfig(inputSize, hiddenSizes, outputSize, activation, batchNorm)) { }

    /// <summary>The hyper-parameters.</summary>
    public MlpConfig Config { get; }

    /// <summary>Logits or values, (B, OutputSize), from inputs (B, …) whose trailing dimensions hold InputSize numbers.</summary>
    public override Tensor forward(Tensor X)
    {
        using var flat = X.reshape(X.shape[0], -1);               // (B, InputSize)
        return layers.call(flat);                                  // (B, OutputSize)
    }

    /// <summary>The module for an <see cref="Activation"/>.</summary>
    public static nn.Module<Tensor, Tensor> MakeActivation(Activation activation) => activation switch
    {
        Activation.ReLU => nn.ReLU(),
        Activation.Sigmoid => nn.Sigmoid(),
        Activation.Tanh => nn.Tanh(),
        Activation.GELU => nn.GELU(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
