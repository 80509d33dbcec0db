using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLCourse.Kernel;

/// <summary>One Jupyter message: routing identities, the four JSON parts and any binary buffers.</summary>
public sealed class JupyterMessage
{
    /// <summary>ZeroMQ routing identities (ROUTER sockets) or the topic (IOPub).</summary>
    public IReadOnlyList<byte[]> Identities { get; init; } = [];

    /// <summary>msg_id, session, username, date, msg_type, version.</summary>
    public JsonObject Header { get; init; } = [];

    /// <summary>The header of the request this message answers (empty when none).</summary>
    public JsonObject ParentHeader { get; init; } = [];

    /// <summary>Free-form metadata.</summary>
    public JsonObject Metadata { get; init; } = [];

    /// <summary>The message body.</summary>
    public JsonObject Content { get; init; } = [];

    /// <summary>Why the content part could not be used (it was not a JSON object; <see cref="Content"/> is then empty), or null.</summary>
    public string? ContentProblem { get; init; }

    /// <summary>Extra binary frames.</summary>
    public IReadOnlyList<byte[]> Buffers { get; init; } = [];

    /// <summary>The header's msg_type.</summary>
    public string Type => Header["msg_type"]?.GetValue<string>() ?? "";

    /// <summary>The header's msg_id.</summary>
    public string Id => Header["msg_id"]?.GetValue<string>() ?? "";
}

/// <summary>
/// Turns messages into ZeroMQ frames and back (Jupyter wire protocol 5.3): identities, <c>&lt;IDS|MSG&gt;</c>, the
/// HMAC-SHA256 signature (hex) of header, parent header, metadata and content, those four JSON parts, buffers.
/// Incoming signatures are compared in constant time; a repeated signature (a replayed message) is rejected too.
/// </summary>
public sealed class MessageCodec
{
    /// <summary>The protocol version the kernel speaks.</summary>
    public const string ProtocolVersion = "5.3";

    private static readonly byte[] delimiter = "<IDS|MSG>"u8.ToArray();
    private readonly byte[] key;
    private readonly HashSet<string> seen = [];
    private readonly Queue<string> seenOrder = new();

    /// <summary>A codec for one kernel session.</summary>
    public MessageCodec(string key, string? session = null)
    {
        this.key = Encoding.UTF8.GetBytes(key);
        Session = session ?? Guid.NewGuid().ToString();
    }

    /// <summary>The kernel's session id (header.session of every message it sends).</summary>
    public string Session { get; }

    /// <summary>Parses and verifies frames; false (with the reason) for a malformed or badly signed message.</summary>
    public bool TryDecode(IReadOnlyList<byte[]> frames, out JupyterMessage? message, out string? problem)
    {
        message = null;
        int split = -1;
        for (int i = 0; i < frames.Count; i++)
            if (frames[i].AsSpan().SequenceEqual(delimiter)) { split = i; break; }
        if (split < 0 || frames.Count < split + 6)
        {
            problem = split < 0 ? "no <IDS|MSG> delimiter" : "fewer than five frames after the delimiter";
            return false;
        }
        byte[] signature = frames[split + 1];
        var parts = new[] { frames[split + 2], frames[split + 3], frames[split + 4], frames[split + 5] };
        if (key.Length > 0)
        {
            byte[] expected = Sign(parts);
            byte[] given;
            try { given = Convert.FromHexString(Encoding.ASCII.GetString(signature)); }
            catch (FormatException) { given = []; }
            if (!CryptographicOperations.FixedTimeEquals(expected, given))
            {
                problem = "bad signature";
                return false;
            }
            string digest = Convert.ToHexString(expected);
            lock (seen)
            {
                if (!seen.Add(digest))
                {
                    problem = "a replayed signature";
                    return false;
                }
                seenOrder.Enqueue(digest);
                if (seenOrder.Count > 65536) seen.Remove(seenOrder.Dequeue());
            }
        }
        try
        {
            // A header is needed to answer at all; the other parts, when not objects, are read as empty ones (and the
            // request is answered with an error naming its content).
            var content = parts[3].Length == 0 ? null : JsonNode.Parse(parts[3]);
            message = new JupyterMessage
            {
                Identities = frames.Take(split).ToList(),
                Header = ParseObject(parts[0]) ?? throw new JsonException("the header is not a JSON object"),
                ParentHeader = ParseObjectOrEmpty(parts[1]),
                Metadata = ParseObjectOrEmpty(parts[2]),
                Content = content as JsonObject ?? [],
                ContentProblem = content is null or JsonObject ? null : $"the content is a JSON {content.GetValueKind().ToString().ToLowerInvariant()}, not an object",
                Buffers = frames.Skip(split + 6).ToList(),
            };
            if (message.Type.Length == 0) throw new JsonException("the header has no msg_type");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            message = null;
            problem = "malformed JSON: " + e.Message;
            return false;
        }
        problem = null;
        return true;
    }

    /// <summary>The frames of a message, signed.</summary>
    public List<byte[]> Encode(JupyterMessage message)
    {
        var parts = new[] { Serialize(message.Header), Serialize(message.ParentHeader), Serialize(message.Metadata), Serialize(message.Content) };
        var frames = new List<byte[]>(message.Identities) { delimiter };
        frames.Add(key.Length == 0 ? [] : Encoding.ASCII.GetBytes(Convert.ToHexString(Sign(parts)).ToLowerInvariant()));
        frames.AddRange(parts);
        frames.AddRange(message.Buffers);
        return frames;
    }

    /// <summary>A new message of <paramref name="type"/>; a reply to <paramref name="parent"/> when given (same identities).</summary>
    public JupyterMessage Create(string type, JsonObject content, JupyterMessage? parent, IReadOnlyList<byte[]>? identities = null) => new()
    {
        Identities = identities ?? parent?.Identities ?? [],
        Header = new JsonObject
        {
            ["msg_id"] = Guid.NewGuid().ToString(),
            ["session"] = Session,
            ["username"] = "kernel",
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ"),
            ["msg_type"] = type,
            ["version"] = ProtocolVersion,
        },
        ParentHeader = parent is null ? [] : (JsonObject)parent.Header.DeepClone(),
        Content = content,
    };

    /// <summary>HMAC-SHA256 of the four JSON parts with the session key.</summary>
    public byte[] Sign(IEnumerable<byte[]> parts)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        foreach (var part in parts) hmac.AppendData(part);
        return hmac.GetHashAndReset();
    }

    private static JsonObject ParseObjectOrEmpty(byte[] json) => (json.Length == 0 ? null : JsonNode.Parse(json)) as JsonObject ?? [];

    private static JsonObject? ParseObject(byte[] json) =>
        json.Length == 0 ? null : JsonNode.Parse(json) as JsonObject ?? throw new JsonException("a message part is not a JSON object");

    private static byte[] Serialize(JsonObject node) => Encoding.UTF8.GetBytes(node.ToJsonString());
}
