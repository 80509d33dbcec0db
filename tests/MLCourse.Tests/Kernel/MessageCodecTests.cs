using System.Text;
using System.Text.Json.Nodes;
using MLCourse.Kernel;

namespace MLCourse.Tests.Kernel;

public class MessageCodecTests
{
    private static List<byte[]> Request(MessageCodec codec, string code = "1 + 1") =>
        codec.Encode(codec.Create("execute_request", new JsonObject { ["code"] = code }, null, [Encoding.UTF8.GetBytes("client-id")]));

    [Fact]
    public void A_signed_message_round_trips_with_its_identities()
    {
        var codec = new MessageCodec("secret");
        Assert.True(codec.TryDecode(Request(codec), out var message, out var problem), problem);
        Assert.Equal("execute_request", message!.Type);
        Assert.Equal("1 + 1", message.Content["code"]!.GetValue<string>());
        Assert.Equal("client-id", Encoding.UTF8.GetString(message.Identities.Single()));
        Assert.Equal("5.3", message.Header["version"]!.GetValue<string>());
    }

    [Fact]
    public void A_message_signed_with_another_key_is_rejected()
    {
        var frames = Request(new MessageCodec("another key"));
        Assert.False(new MessageCodec("secret").TryDecode(frames, out _, out var problem));
        Assert.Equal("bad signature", problem);
    }

    [Fact]
    public void A_tampered_content_is_rejected()
    {
        var codec = new MessageCodec("secret");
        var frames = Request(codec);
        frames[^1] = Encoding.UTF8.GetBytes("{\"code\": \"File.Delete(\\\"x\\\")\"}");
        Assert.False(codec.TryDecode(frames, out _, out var problem));
        Assert.Equal("bad signature", problem);
    }

    [Fact]
    public void A_replayed_message_is_rejected()
    {
        var codec = new MessageCodec("secret");
        var frames = Request(codec);
        Assert.True(codec.TryDecode(frames, out _, out _));
        Assert.False(codec.TryDecode(frames, out _, out var problem));
        Assert.Equal("a replayed signature", problem);
    }

    [Theory]
    [InlineData("no delimiter")]
    [InlineData("<IDS|MSG>")]
    public void Malformed_frames_are_rejected_without_throwing(string first)
    {
        var frames = new List<byte[]> { Encoding.UTF8.GetBytes(first), Array.Empty<byte>(), Encoding.UTF8.GetBytes("{not json") };
        Assert.False(new MessageCodec("").TryDecode(frames, out _, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void Without_a_key_messages_are_unsigned_and_json_errors_are_reported()
    {
        var codec = new MessageCodec("");
        var frames = Request(codec);
        Assert.Empty(frames[2]);
        frames[3] = Encoding.UTF8.GetBytes("[1, 2]");
        Assert.False(codec.TryDecode(frames, out _, out var problem));
        Assert.StartsWith("malformed JSON", problem);
    }

    [Theory]
    [InlineData("abc", 2, 2)]
    [InlineData("😀x", 1, 2)]
    [InlineData("😀x", 2, 3)]
    public void Cursor_positions_convert_between_code_points_and_utf16(string text, int codePoints, int utf16)
    {
        Assert.Equal(utf16, JupyterKernel.Utf16Index(text, codePoints));
        Assert.Equal(codePoints, JupyterKernel.CodePointIndex(text, utf16));
    }
}
