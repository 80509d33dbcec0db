using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Pretrained;

/// <summary>
/// The ImageNet-trained ResNet-18 (预训练模型; chapter 06's transfer learning) that ML.NET's image featurizer ships: the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.24.0 (MIT; the .nupkg is 60 MB), whose
/// <c>tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx</c> (64 MB) is a CNTK model exported to ONNX, and whose
/// <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c> holds its input normalisation. What the graph is, exactly:
/// <list type="bullet">
/// <item>a featurizer, not a classifier: it ends with the 7×7 global average pooling, output [1, 512, 1, 1]; the
/// ImageNet fully connected layer (1000 logits) is not in the package, so <see cref="Load"/> gives a <see cref="ResNet"/>
/// whose <c>fc</c> is new (random), for the caller to train;</item>
/// <item>CNTK's "ResNet-18", which has three basic blocks in its last stage (2, 2, 2, 3: 22 convolutions, 15.9M
/// parameters without <c>fc</c>) where torchvision's has two; <see cref="Load"/> builds that shape (<see cref="Blocks"/>),
/// with torchvision's parameter names (the extra block is <c>layer4.2</c>);</item>
/// <item>input [1, 3, 224, 224] in BGR channel order, pixel values 0–255 minus a per-pixel mean image (about 103, 116,
/// 123 for B, G, R): <see cref="Preprocess"/> does that to RGB images in [0, 1].</item>
/// </list>
/// The graph's padding is asymmetric (CNTK's, e.g. 3 before and 2 after for the first 7×7 convolution); at 224×224 it
/// computes exactly what torchvision's symmetric padding computes, which the equivalence test checks. Where a stride-2
/// layer meets an odd side (at 112×112, layer4 gets 7×7 maps) the two paddings can differ at the border; that is not
/// tested.
/// <para>Where the weights live: the package is restored into the NuGet cache
/// (<c>~/.nuget/packages/microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0</c>, or <c>$NUGET_PACKAGES</c>) by
/// <c>#r "nuget: Microsoft.ML.DnnImageFeaturizer.ResNet18, 0.24.0"</c> or by building this repository's tests; a project
/// that references it also gets a copy under its output folder's <c>DnnImageModels/</c>. <c>$MLCOURSE_RESNET18</c> may
/// name the .onnx file (or its folder) instead. The library itself does not depend on the package.</para>
/// </summary>
public static class ResNet18
{
    /// <summary>The NuGet package that carries the weights.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The package version the loader was checked against.</summary>
    public const string PackageVersion = "0.24.0";

    private const string ModelFile = "ResNet18.onnx";
    private const string PreprocessFile = "ResNetPreprocess.onnx";
    private const string EnvironmentVariable = "MLCOURSE_RESNET18";

    /// <summary>Basic blocks per stage of the packaged network (CNTK's ResNet-18: one more block in the last stage).</summary>
    public static int[] Blocks => [2, 2, 2, 3];

    /// <summary>The side of the square input the graph was exported for.</summary>
    public const int ImageSize = 224;

    /// <summary>
    /// The path of <c>ResNet18.onnx</c>: <c>$MLCOURSE_RESNET18</c> when set, else next to the application (a project that
    /// references the package), else beside a loaded package assembly, else the NuGet cache. Throws a
    /// <see cref="FileNotFoundException"/> that says how to restore the package.
    /// </summary>
    public static string Locate() => LocateFile(Path.Combine("ResNet18Onnx", ModelFile));

    /// <summary>The path of the package's <c>ResNetPreprocess.onnx</c> (RGB → BGR, minus the mean image), found like <see cref="Locate"/>.</summary>
    public static string LocatePreprocess() => LocateFile(Path.Combine("ResNetPrepOnnx", PreprocessFile));

    private static string LocateFile(string relative)
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            string folder = Directory.Exists(fromEnvironment) ? fromEnvironment : Path.GetDirectoryName(Path.GetFullPath(fromEnvironment))!;
            // The variable names ResNet18.onnx or its folder; the preprocessing graph is its sibling folder in the package.
            string candidate = Path.GetFileName(relative) == ModelFile
                ? (Directory.Exists(fromEnvironment) ? Path.Combine(fromEnvironment, ModelFile) : fromEnvironment)
                : Path.Combine(folder, "..", relative);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            throw new FileNotFoundException($"{EnvironmentVariable} is set to {fromEnvironment}, but {candidate} is not there.", candidate);
        }
        var roots = new List<string> { Path.Combine(AppContext.BaseDirectory, "DnnImageModels") };
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            if (assembly.GetName().Name == PackageId && !assembly.IsDynamic && File.Exists(assembly.Location))
                roots.Add(Path.Combine(Path.GetDirectoryName(assembly.Location)!, "..", "..", "tools", "DnnImageModels"));
        var caches = new List<string>();
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages) caches.Add(packages);
        caches.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        foreach (string cache in caches)
        {
            string folder = Path.Combine(cache, PackageId.ToLowerInvariant());
            roots.Add(Path.Combine(folder, PackageVersion, "tools", "DnnImageModels"));
            if (Directory.Exists(folder))
                roots.AddRange(Directory.GetDirectories(folder).OrderDescending().Select(v => Path.Combine(v, "tools", "DnnImageModels")));
        }
        foreach (string root in roots)
            if (File.Exists(Path.Combine(root, relative))) return Path.GetFullPath(Path.Combine(root, relative));
        throw new FileNotFoundException(
            $"The pretrained ResNet-18 weights come from the NuGet package {PackageId} {PackageVersion}, which is not in the NuGet cache " +
            $"({string.Join(", ", caches)}). Restore it with `#r \"nuget: {PackageId}, {PackageVersion}\"` in a notebook " +
            $"(or `dotnet build` of the MLCourse repository), or set {EnvironmentVariable} to the path of {ModelFile}.");
    }

    /// <summary>The ONNX graph's bytes (64 MB).</summary>
    public static byte[] ReadOnnx(string? path = null) => File.ReadAllBytes(path ?? Locate());

    /// <summary>
    /// The packaged ResNet-18's convolution and batch-norm weights in a <see cref="ResNet"/> of shape <see cref="Blocks"/>,
    /// in eval mode, float32 on the CPU; <c>fc</c> (ImageNet's classifier, not shipped) is new, with
    /// <paramref name="classes"/> outputs. Feed it <see cref="Preprocess"/>ed images.
    /// </summary>
    public static ResNet Load(int classes = 1000, string? path = null)
    {
        var state = StateDict(OnnxModel.Read(ReadOnnx(path)), out int[] blocks);
        var model = new ResNet(blocks, classes);
        try { LoadInto(model, state); }
        finally { foreach (var t in state.Values) t.Dispose(); }
        model.eval();
        return model;
    }

    /// <summary>
    /// Copies torchvision-named weights into a <see cref="ResNet"/>: every parameter and batch-norm statistic except
    /// <c>fc.*</c> must be given with the right shape (an error names what is missing or extra).
    /// </summary>
    public static void LoadInto(ResNet model, IReadOnlyDictionary<string, Tensor> state)
    {
        var targets = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(model.named_buffers())
            .Where(p => !p.name.StartsWith("fc.", StringComparison.Ordinal) && !p.name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(p => p.name, p => p.Item2);
        var missing = targets.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var extra = state.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new InvalidDataException($"The weights do not fit the ResNet: missing {string.Join(", ", missing)}; not in the model: {string.Join(", ", extra)}.");
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in targets)
        {
            var source = state[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{name}: the weights have shape [{string.Join(", ", source.shape)}], the model [{string.Join(", ", target.shape)}].");
            target.copy_(source);
        }
    }

    /// <summary>
    /// torchvision names for the graph's anonymous initializers (<c>ParameterNN</c>, <c>ConstantNN</c>), found by
    /// following the graph from its input: the first Conv and its BatchNormalization are <c>conv1</c>/<c>bn1</c>; then
    /// each residual block reads the previous block's output with a Conv whose BatchNormalization feeds a Relu
    /// (<c>conv1</c>/<c>bn1</c>, then <c>conv2</c>/<c>bn2</c> into the block's Add) and, when it downsamples, a second
    /// Conv whose BatchNormalization feeds the Add directly (<c>downsample.0</c>/<c>downsample.1</c>). A block with a
    /// downsample starts a new stage. BatchNormalization's inputs are scale, bias, mean, variance → <c>weight</c>,
    /// <c>bias</c>, <c>running_mean</c>, <c>running_var</c>. Every float initializer must be accounted for.
    /// </summary>
    /// <param name="model">The graph.</param>
    /// <param name="blocks">The basic blocks found per stage.</param>
    public static Dictionary<string, Tensor> StateDict(OnnxModel model, out int[] blocks)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        OnnxNode Single(string value, string op)
        {
            var found = model.Consumers(value).Where(n => n.OpType == op).ToList();
            if (found.Count != 1) throw new InvalidDataException($"Not the ResNet-18 graph this loader knows: {found.Count} {op} nodes read '{value}'.");
            return found[0];
        }
        void Add(string name, string initializer)
        {
            var t = model.Initializer(initializer);
            if (!used.Add(initializer)) throw new InvalidDataException($"Initializer '{initializer}' is used twice.");
            result[name] = torch.tensor(t.Values, t.Shape);
        }
        OnnxNode ConvBn(OnnxNode conv, string conv_, string bn_)
        {
            if (conv.Inputs.Count != 2) throw new InvalidDataException($"Convolution '{conv.Name}' has a bias; ResNet's do not.");
            Add(conv_ + ".weight", conv.Inputs[1]);
            var bn = Single(conv.Outputs[0], "BatchNormalization");
            string[] names = ["weight", "bias", "running_mean", "running_var"];
            for (int i = 0; i < 4; i++) Add($"{bn_}.{names[i]}", bn.Inputs[i + 1]);
            return bn;
        }
        if (model.InputNames.Count != 1) throw new InvalidDataException("The ResNet-18 graph should have one input.");
        var stem = ConvBn(Single(model.InputNames[0], "Conv"), "conv1", "bn1");
        string x = Single(Single(stem.Outputs[0], "Relu").Outputs[0], "MaxPool").Outputs[0];
        var stages = new List<int>();
        while (model.Consumers(x).Any(n => n.OpType == "Conv"))
        {
            var convs = model.Consumers(x).Where(n => n.OpType == "Conv").ToList();
            var bnOf = convs.ToDictionary(c => c, c => Single(c.Outputs[0], "BatchNormalization"));
            var main = convs.Where(c => model.Consumers(bnOf[c].Outputs[0]).Any(n => n.OpType == "Relu")).ToList();
            var shortcut = convs.Except(main).ToList();
            if (main.Count != 1 || shortcut.Count > 1) throw new InvalidDataException($"Not a basic residual block after '{x}'.");
            if (shortcut.Count == 1 || stages.Count == 0) stages.Add(0);
            string prefix = $"layer{stages.Count}.{stages[^1]}";
            stages[^1]++;
            var bn1 = ConvBn(main[0], prefix + ".conv1", prefix + ".bn1");
            var bn2 = ConvBn(Single(Single(bn1.Outputs[0], "Relu").Outputs[0], "Conv"), prefix + ".conv2", prefix + ".bn2");
            var add = Single(bn2.Outputs[0], "Add");
            string expectedShortcut = shortcut.Count == 1 ? ConvBn(shortcut[0], prefix + ".downsample.0", prefix + ".downsample.1").Outputs[0] : x;
            if (!add.Inputs.Contains(expectedShortcut)) throw new InvalidDataException($"Block {prefix}: the shortcut does not reach the Add.");
            x = Single(add.Outputs[0], "Relu").Outputs[0];
        }
        if (stages.Count != 4) throw new InvalidDataException($"Expected 4 stages of residual blocks, found {stages.Count}.");
        var unused = model.Initializers.Keys.Where(k => !used.Contains(k)).ToList();
        if (unused.Count > 0) throw new InvalidDataException($"ONNX initializers not matched to a parameter: {string.Join(", ", unused)}.");
        blocks = stages.ToArray();
        return result;
    }

    /// <summary>
    /// The package's per-pixel mean image [3, 224, 224] in BGR order (0–255 scale), from <c>ResNetPreprocess.onnx</c>.
    /// </summary>
    public static Tensor MeanImage(string? path = null)
    {
        var t = OnnxModel.Read(File.ReadAllBytes(path ?? LocatePreprocess())).Initializer("MeanImage");
        return torch.tensor(t.Values, [3, ImageSize, ImageSize]);
    }

    // Kept for the process's lifetime: detached, so the dispose scope that happens to be open at the first call cannot free it.
    private static readonly Lazy<Tensor> Mean = new(() => MeanImage().DetachFromDisposeScope());

    /// <summary>
    /// What the network expects of RGB images [B, 3, H, W] with values in [0, 1]: channels reversed to BGR, scaled to
    /// 0–255, minus the mean image (resized bilinearly when H × W is not 224 × 224).
    /// </summary>
    public static Tensor Preprocess(Tensor rgb)
    {
        if (rgb.dim() != 4 || rgb.shape[1] != 3)
            throw new ArgumentException($"Expected RGB images [B, 3, H, W], got [{string.Join(", ", rgb.shape)}].", nameof(rgb));
        using var scope = NewDisposeScope();
        var mean = Mean.Value.to(rgb.device).unsqueeze(0);
        if (rgb.shape[2] != ImageSize || rgb.shape[3] != ImageSize)
            mean = nn.functional.interpolate(mean, [rgb.shape[2], rgb.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
        return (rgb.flip(1) * 255f - mean).MoveToOuterDisposeScope();
    }
}
