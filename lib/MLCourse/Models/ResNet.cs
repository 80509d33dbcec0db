using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>
/// ResNet's basic block (残差块, He et al. 2016): 3×3 convolution → batch norm → ReLU → 3×3 convolution → batch norm,
/// plus the block's input (the shortcut, 跳跃连接), then ReLU. When the block halves the resolution or changes the width,
/// the shortcut is a 1×1 convolution with stride 2 and a batch norm (<c>downsample</c>). Parameter names follow
/// torchvision's <c>BasicBlock</c> (<c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>downsample.0</c>, <c>downsample.1</c>).
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv1, bn1, conv2, bn2;
    private readonly nn.Module<Tensor, Tensor>? downsample;

    /// <summary>A block from <paramref name="inChannels"/> to <paramref name="outChannels"/> with the given stride (1 or 2).</summary>
    public BasicBlock(int inChannels, int outChannels, int stride) : base("BasicBlock")
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = bn2.call(conv2.call(nn.functional.relu(bn1.call(conv1.call(x)))));
        var shortcut = downsample is null ? x : downsample.call(x);
        return nn.functional.relu(h + shortcut).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A residual network (残差网络) for images [B, 3, H, W] in torchvision's layout and parameter names, so a torchvision
/// <c>state_dict</c> maps onto it by name: <c>conv1</c> (7×7, stride 2) → <c>bn1</c> → ReLU → 3×3 max pooling (stride 2) →
/// <c>layer1</c>…<c>layer4</c> (basic blocks of width 64, 128, 256, 512; layers 2–4 start with stride 2) → global average
/// pooling → <c>fc</c>. <see cref="ResNet18"/> is torchvision's resnet18 (blocks 2, 2, 2, 2; 11.7M parameters).
/// <see cref="Features"/> gives the 512 pooled features (the input to <c>fc</c>) that transfer learning reads (chapter 06).
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv1, bn1, maxpool, layer1, layer2, layer3, layer4;
    private readonly nn.Module<Tensor, Tensor> fc;

    /// <summary>Basic blocks per stage (4 numbers).</summary>
    public IReadOnlyList<int> Blocks { get; }

    /// <summary>A ResNet with the given basic blocks per stage and <paramref name="classes"/> outputs.</summary>
    public ResNet(int[] blocks, int classes = 1000) : base("ResNet")
    {
        if (blocks.Length != 4 || blocks.Any(b => b < 1)) throw new ArgumentException("A ResNet has 4 stages of at least one block each.", nameof(blocks));
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), "At least one class.");
        Blocks = blocks;
        conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        layer1 = Stage(64, 64, blocks[0], 1);
        layer2 = Stage(64, 128, blocks[1], 2);
        layer3 = Stage(128, 256, blocks[2], 2);
        layer4 = Stage(256, 512, blocks[3], 2);
        fc = nn.Linear(512, classes);
        RegisterComponents();
    }

    /// <summary>torchvision's ResNet-18: two basic blocks per stage.</summary>
    public static ResNet ResNet18(int classes = 1000) => new([2, 2, 2, 2], classes);

    private static nn.Module<Tensor, Tensor> Stage(int inChannels, int outChannels, int count, int stride)
    {
        var blocks = new List<nn.Module<Tensor, Tensor>> { new BasicBlock(inChannels, outChannels, stride) };
        for (int i = 1; i < count; i++) blocks.Add(new BasicBlock(outChannels, outChannels, 1));
        return nn.Sequential(blocks);
    }

    /// <summary>The pooled features [B, 512] of images [B, 3, H, W] (everything but <c>fc</c>).</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.call(nn.functional.relu(bn1.call(conv1.call(images))));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return x.mean([2L, 3L]).MoveToOuterDisposeScope();
    }

    /// <summary>Class logits [B, classes] of images [B, 3, H, W].</summary>
    public override Tensor forward(Tensor images)
    {
        using var features = Features(images);
        return fc.call(features);
    }
}
