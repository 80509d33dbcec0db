using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLCourse.Kernel;

/// <summary>The connection file Jupyter writes for a kernel: where to bind its five sockets and the signing key.</summary>
public sealed record ConnectionInfo
{
    /// <summary><c>tcp</c> (or <c>ipc</c>).</summary>
    [JsonPropertyName("transport")] public string Transport { get; init; } = "tcp";

    /// <summary>Address to bind, usually 127.0.0.1.</summary>
    [JsonPropertyName("ip")] public string Ip { get; init; } = "127.0.0.1";

    /// <summary>Port of the shell socket (requests).</summary>
    [JsonPropertyName("shell_port")] public int ShellPort { get; init; }

    /// <summary>Port of the control socket (interrupt, shutdown).</summary>
    [JsonPropertyName("control_port")] public int ControlPort { get; init; }

    /// <summary>Port of the IOPub socket (outputs and status).</summary>
    [JsonPropertyName("iopub_port")] public int IOPubPort { get; init; }

    /// <summary>Port of the stdin socket.</summary>
    [JsonPropertyName("stdin_port")] public int StdinPort { get; init; }

    /// <summary>Port of the heartbeat socket.</summary>
    [JsonPropertyName("hb_port")] public int HeartbeatPort { get; init; }

    /// <summary>HMAC key; empty turns signing off.</summary>
    [JsonPropertyName("key")] public string Key { get; init; } = "";

    /// <summary>Only <c>hmac-sha256</c> is supported.</summary>
    [JsonPropertyName("signature_scheme")] public string SignatureScheme { get; init; } = "hmac-sha256";

    /// <summary>Reads a connection file.</summary>
    public static ConnectionInfo Load(string path)
    {
        var info = JsonSerializer.Deserialize<ConnectionInfo>(File.ReadAllText(path))
                   ?? throw new InvalidDataException($"{path}: not a Jupyter connection file.");
        if (!string.Equals(info.SignatureScheme, "hmac-sha256", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: signature_scheme {info.SignatureScheme} is not supported (only hmac-sha256).");
        return info;
    }

    /// <summary>The ZeroMQ address of one port.</summary>
    public string Address(int port) => Transport == "ipc" ? $"ipc://{Ip}-{port}" : $"{Transport}://{Ip}:{port}";
}
