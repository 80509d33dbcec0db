using System.Buffers.Binary;
using System.IO.Compression;

namespace MLCourse.Data;

/// <summary>Reads the idx format of MNIST-style files (optionally gzip-compressed).</summary>
internal static class Idx
{
    internal const int ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
    internal const int LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension

    /// <summary>Decompresses (when .gz) and checks magic and length; returns the dimensions and the raw bytes.</summary>
    internal static (int[] Dims, byte[] Data) Read(string path, int expectedMagic)
    {
        byte[] bytes = ReadAll(path);
        string kind = expectedMagic == ImagesMagic ? "images (3 dimensions)" : "labels (1 dimension)";
        if (bytes.Length < 4)
            throw new DataSetException($"{path} is too short to be an idx file ({bytes.Length} bytes).", path);
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != expectedMagic)
            throw new DataSetException(
                $"{path} has idx magic number 0x{magic:x8}, expected 0x{expectedMagic:x8} (unsigned-byte {kind}).", path);
        int rank = expectedMagic & 0xff;
        int header = 4 + 4 * rank;
        if (bytes.Length < header)
            throw new DataSetException($"{path} ends inside its idx header ({bytes.Length} bytes, expected at least {header}).", path);
        var dims = new int[rank];
        long expected = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            expected *= dims[d];
        }
        if (bytes.Length - header != expected)
            throw new DataSetException(
                $"{path} holds {bytes.Length - header} data bytes but its header [{string.Join(" x ", dims)}] says {expected}: "
                + "the file is truncated or corrupt. Delete it and fetch it again.", path);
        return (dims, bytes[header..]);
    }

    private static byte[] ReadAll(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return ReadToEnd(file, file.Length);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            return ReadToEnd(gzip, file.Length * 5);
        }
        catch (InvalidDataException e)
        {
            throw new DataSetException($"{path} is not a valid gzip file ({e.Message}): truncated or corrupt. Delete it and fetch it again.", path, e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataSetException($"{path} ends early: the gzip stream is truncated. Delete it and fetch it again.", path, e);
        }
    }

    private static byte[] ReadToEnd(Stream stream, long sizeHint)
    {
        using var memory = new MemoryStream((int)Math.Min(sizeHint, int.MaxValue / 2));
        stream.CopyTo(memory, 1 << 20);
        return memory.ToArray();
    }
}
