using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLCourse.Data;
using MLCourse.Models;
using MLCourse.Pretrained;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Pretrained;

/// <summary>ML.NET's ImageNet ResNet-18 (ONNX) in the course's TorchSharp ResNet, checked against ONNX Runtime.</summary>
public class ResNet18Tests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Lazy<byte[]> Onnx = new(() => ResNet18.ReadOnnx());

    [Fact]
    public void The_graph_maps_every_initializer_to_a_torchvision_parameter()
    {
        var graph = OnnxModel.Read(Onnx.Value);
        Assert.Equal(["Input247"], graph.InputNames);
        Assert.Equal(["Pooling395_Output_0"], graph.OutputNames);   // the featurizer ends at the global average pooling
        var state = ResNet18.StateDict(graph, out int[] blocks);
        Assert.Equal(ResNet18.Blocks, blocks);
        using var model = new ResNet(blocks);
        var expected = model.named_parameters().Select(p => p.name).Concat(model.named_buffers().Select(b => b.name))
            .Where(n => !n.StartsWith("fc.") && !n.EndsWith("num_batches_tracked")).Order();
        Assert.Equal(expected, state.Keys.Order());
        Assert.Equal(new long[] { 512, 256, 1, 1 }, state["layer4.0.downsample.0.weight"].shape);
        Assert.Equal(new long[] { 512, 512, 3, 3 }, state["layer4.2.conv2.weight"].shape);
        Assert.Equal(110, graph.Initializers.Count);
        // torchvision's resnet18 has 11,689,512 parameters; CNTK's has one more 512-wide block and no ImageNet fc here.
        using var torchvision = ResNet.ResNet18();
        Assert.Equal(11_689_512, torchvision.parameters().Sum(p => p.numel()));
        long withoutFc = model.named_parameters().Where(p => !p.name.StartsWith("fc.")).Sum(p => p.parameter.numel());
        Assert.Equal(11_176_512 + 2 * 512 * 512 * 9 + 2 * 2 * 512, withoutFc);
        foreach (var t in state.Values) t.Dispose();
    }

    [SkippableFact]
    public void The_course_resnet_reproduces_onnx_runtimes_features_on_fashion_mnist_images()
    {
        TrainTest? data = null;
        Repo.UseSharedData();
        try { data = FashionMnist.Load(); } catch (DataSetException) { }
        Skip.If(data is null, "Fashion-MNIST is not available (MLCOURSE_DATA or /usr/share/datasets/fashion-mnist).");
        using var _ = data;
        using var model = ResNet18.Load(classes: 10);
        byte[] preprocessGraph = File.ReadAllBytes(ResNet18.LocatePreprocess());
        // The package's preprocessing splits RGB and concatenates B, G, R: Preprocess must reverse the channels.
        Assert.Equal(["Split", "Concat", "Sub"], OnnxModel.Read(preprocessGraph).Nodes.Select(n => n.OpType));
        Assert.Equal(["BInp", "GInp", "RInp"], OnnxModel.Read(preprocessGraph).Nodes[1].Inputs);
        using var preprocessSession = new InferenceSession(preprocessGraph);
        using var session = new InferenceSession(Onnx.Value);
        // No ImageNet photographs here: 6 Fashion-MNIST test images (one per class 0–5), upscaled to 224×224, grey → RGB
        // tinted differently per channel (R 1.0, G 0.7, B 0.4), so that the channel order and per-channel means matter.
        var labels = data!.Test.y.cpu().data<long>().ToArray();
        var picks = Enumerable.Range(0, 6).Select(c => (long)Array.IndexOf(labels, (long)c)).ToArray();
        using var scope = NewDisposeScope();
        var grey = data.Test.X.cpu().index(torch.tensor(picks));
        var rgb = nn.functional.interpolate(grey, [224, 224], mode: InterpolationMode.Bilinear, align_corners: false).clamp(0, 1)
            * torch.tensor(new float[] { 1f, 0.7f, 0.4f }).view(1, 3, 1, 1);
        torch.Tensor ours, unflipped;
        using (torch.no_grad())
        {
            ours = model.Features(ResNet18.Preprocess(rgb));
            unflipped = model.Features(ResNet18.Preprocess(rgb.flip(1)));   // BGR fed where RGB is expected
        }
        double worst = 0, largest = 0;
        int topMismatches = 0;
        for (int i = 0; i < picks.Length; i++)
        {
            // The package's own pipeline: RGB 0–255 → ResNetPreprocess.onnx (BGR, minus the mean image) → ResNet18.onnx.
            var pixels = (rgb[i] * 255f).contiguous().data<float>().ToArray();
            using var prepared = preprocessSession.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", new DenseTensor<float>(pixels, [1, 3, 224, 224]))]);
            var bgr = prepared.First().AsTensor<float>().ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("Input247", new DenseTensor<float>(bgr, [1, 3, 224, 224]))]);
            var reference = results.First().AsTensor<float>().ToArray();
            Assert.Equal(512, reference.Length);
            var mine = ours[i].data<float>().ToArray();
            for (int j = 0; j < 512; j++)
            {
                worst = Math.Max(worst, Math.Abs(mine[j] - reference[j]));
                largest = Math.Max(largest, Math.Abs(reference[j]));
            }
            // The five strongest features agree (the graph has no classifier, so there are no class logits to rank).
            var top = (float[] v) => v.Select((x, k) => (x, k)).OrderByDescending(p => p.x).Take(5).Select(p => p.k).Order().ToArray();
            if (!top(reference).SequenceEqual(top(mine))) topMismatches++;
        }
        double channelOrderMatters = (unflipped - ours).abs().max().item<float>();
        output.WriteLine($"max |course − ONNX Runtime| over {picks.Length}×512 features: {worst:E2} (largest feature {largest:F2}); " +
            $"images whose top-5 features differ: {topMismatches}; with the channels swapped the features move by up to {channelOrderMatters:F2}");
        Assert.Equal(0, topMismatches);
        Assert.True(largest > 0.5, "The reference features are all near zero: the comparison would prove nothing.");
        Assert.True(worst <= 1e-3, $"max abs difference {worst:E2} > 1e-3");
        Assert.True(channelOrderMatters > 100 * 1e-3, "The tint does not make the channel order visible: the test could not catch a swap.");
    }
}
