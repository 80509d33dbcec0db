using System.Text;

namespace MLCourse.Pretrained;

/// <summary>One node of an ONNX graph: its operator, input and output value names.</summary>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="OpType">The operator, e.g. <c>MatMul</c>, <c>Add</c>, <c>Gather</c>.</param>
/// <param name="Inputs">Names of the values it reads (initializers or other nodes' outputs).</param>
/// <param name="Outputs">Names of the values it writes.</param>
public sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>A float32 initializer (stored weight) of an ONNX graph: its name, shape and values in row-major order.</summary>
public sealed record OnnxTensor(string Name, long[] Shape, float[] Values);

/// <summary>
/// A minimal reader of ONNX model files (a Protocol Buffers message, <c>onnx.proto</c>): the graph's nodes, its
/// float32 initializers and the names of its inputs and outputs — enough to map a pretrained network's weights onto a
/// TorchSharp module by following the graph. Reads the wire format directly (no protobuf or ONNX package needed);
/// operator attributes are skipped. Used by <see cref="MiniLM"/>.
/// </summary>
public sealed class OnnxModel
{
    private readonly Dictionary<string, OnnxTensor> initializers = new(StringComparer.Ordinal);

    /// <summary>The graph's nodes in file (topological) order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>The float32 initializers by name (other element types are skipped).</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers => initializers;

    /// <summary>Names of the graph's inputs (initializers listed as inputs by old exporters excluded).</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Names of the graph's outputs.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    private OnnxModel(List<OnnxNode> nodes, List<string> inputs, List<string> outputs)
    {
        Nodes = nodes;
        InputNames = inputs;
        OutputNames = outputs;
    }

    /// <summary>Reads an ONNX model from its bytes.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model this reader understands.</exception>
    public static OnnxModel Read(byte[] bytes)
    {
        var nodes = new List<OnnxNode>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        var tensors = new List<OnnxTensor>();
        var reader = new Wire(bytes, 0, bytes.Length);
        bool sawGraph = false;
        while (reader.More)
        {
            var (field, type) = reader.Tag();
            if (field == 7 && type == 2)   // ModelProto.graph
            {
                sawGraph = true;
                var (start, end) = reader.Span();
                ReadGraph(new Wire(bytes, start, end), nodes, inputs, outputs, tensors);
            }
            else reader.Skip(type);
        }
        if (!sawGraph) throw new InvalidDataException("Not an ONNX model: no graph found.");
        var model = new OnnxModel(nodes, inputs, outputs);
        foreach (var t in tensors) model.initializers[t.Name] = t;
        inputs.RemoveAll(model.initializers.ContainsKey);
        return model;
    }

    /// <summary>The initializer of that name, or an error naming it.</summary>
    public OnnxTensor Initializer(string name) =>
        initializers.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"The ONNX graph has no float initializer named '{name}'.");

    /// <summary>The nodes that read a value.</summary>
    public IEnumerable<OnnxNode> Consumers(string value) => Nodes.Where(n => n.Inputs.Contains(value));

    private static void ReadGraph(Wire r, List<OnnxNode> nodes, List<string> inputs, List<string> outputs, List<OnnxTensor> tensors)
    {
        while (r.More)
        {
            var (field, type) = r.Tag();
            if (type != 2) { r.Skip(type); continue; }
            var (start, end) = r.Span();
            var sub = new Wire(r.Bytes, start, end);
            switch (field)
            {
                case 1: nodes.Add(ReadNode(sub)); break;
                case 5: if (ReadTensor(sub) is { } t) tensors.Add(t); break;
                case 11: inputs.Add(ReadValueInfoName(sub)); break;
                case 12: outputs.Add(ReadValueInfoName(sub)); break;
            }
        }
    }

    private static OnnxNode ReadNode(Wire r)
    {
        var ins = new List<string>();
        var outs = new List<string>();
        string name = "", op = "";
        while (r.More)
        {
            var (field, type) = r.Tag();
            if (type != 2) { r.Skip(type); continue; }
            switch (field)
            {
                case 1: ins.Add(r.String()); break;
                case 2: outs.Add(r.String()); break;
                case 3: name = r.String(); break;
                case 4: op = r.String(); break;
                default: r.Span(); break;
            }
        }
        return new OnnxNode(name, op, ins, outs);
    }

    private static string ReadValueInfoName(Wire r)
    {
        string name = "";
        while (r.More)
        {
            var (field, type) = r.Tag();
            if (field == 1 && type == 2) name = r.String();
            else r.Skip(type);
        }
        return name;
    }

    private const int FloatType = 1;

    private static OnnxTensor? ReadTensor(Wire r)
    {
        var dims = new List<long>();
        int dataType = 0;
        string name = "";
        float[]? values = null;
        bool external = false;
        while (r.More)
        {
            var (field, type) = r.Tag();
            switch (field, type)
            {
                case (1, 0): dims.Add((long)r.Varint()); break;
                case (1, 2):
                {
                    var (s, e) = r.Span();
                    var packed = new Wire(r.Bytes, s, e);
                    while (packed.More) dims.Add((long)packed.Varint());
                    break;
                }
                case (2, 0): dataType = (int)r.Varint(); break;
                case (4, 2):
                {
                    var (s, e) = r.Span();
                    values = new float[(e - s) / 4];
                    Buffer.BlockCopy(r.Bytes, s, values, 0, e - s);
                    break;
                }
                case (8, 2): name = r.String(); break;
                case (9, 2):
                {
                    var (s, e) = r.Span();
                    if (dataType == FloatType || dataType == 0)
                    {
                        values = new float[(e - s) / 4];
                        Buffer.BlockCopy(r.Bytes, s, values, 0, e - s);
                    }
                    break;
                }
                case (13, 2): external = true; r.Span(); break;
                case (14, 0): if (r.Varint() == 1) external = true; break;
                default: r.Skip(type); break;
            }
        }
        if (dataType != FloatType) return null;
        if (external) throw new InvalidDataException($"Initializer '{name}' is stored in an external file, which this reader does not follow.");
        var shape = dims.ToArray();
        values ??= [];
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (values.Length != count)
            throw new InvalidDataException($"Initializer '{name}' has {values.Length} values for shape [{string.Join(", ", shape)}].");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
        return new OnnxTensor(name, shape, values);
    }

    /// <summary>A cursor over a Protocol Buffers message in [Position, End).</summary>
    private sealed class Wire(byte[] bytes, int start, int end)
    {
        public byte[] Bytes { get; } = bytes;
        private int position = start;
        public bool More => position < end;

        public ulong Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (position >= end) throw new InvalidDataException("Truncated ONNX (protobuf) varint.");
                byte b = Bytes[position++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new InvalidDataException("Malformed ONNX (protobuf) varint.");
        }

        public (int Field, int Type) Tag()
        {
            ulong tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public (int Start, int End) Span()
        {
            ulong length = Varint();
            if (length > (ulong)(end - position)) throw new InvalidDataException("Truncated ONNX (protobuf) field.");
            int s = position;
            position += (int)length;
            return (s, position);
        }

        public string String()
        {
            var (s, e) = Span();
            return Encoding.UTF8.GetString(Bytes, s, e - s);
        }

        public void Skip(int type)
        {
            switch (type)
            {
                case 0: Varint(); break;
                case 1: position += 8; break;
                case 2: Span(); break;
                case 5: position += 4; break;
                default: throw new InvalidDataException($"Unsupported protobuf wire type {type} in the ONNX file.");
            }
            if (position > end) throw new InvalidDataException("Truncated ONNX (protobuf) message.");
        }
    }
}
