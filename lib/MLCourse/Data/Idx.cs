using System.Buffers.Binary;
using System.IO.Compression;

namespace MLCourse.Data;

/// <summary>Reads the idx format of MNIST-style files (optionally gzip-compressed), streaming into one array.</summary>
internal static class Idx
{
    internal const int ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
    internal const int LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension

    /// <summary>Checks the magic number and the length; returns the dimensions and the data bytes.</summary>
    internal static (int[] Dims, byte[] Data) Read(string path, int expectedMagic)
    {
        string kind = expectedMagic == ImagesMagic ? "images (3 dimensions)" : "labels (1 dimension)";
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using Stream input = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(file, CompressionMode.Decompress)
                : file;
            var head = new byte[4];
            if (input.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
                throw new DataSetException($"{path} is too short to be an idx file (no 4-byte magic number).", path);
            int magic = BinaryPrimitives.ReadInt32BigEndian(head);
            if (magic != expectedMagic)
                throw new DataSetException(
                    $"{path} has idx magic number 0x{magic:x8}, expected 0x{expectedMagic:x8} (unsigned-byte {kind}).", path);
            int rank = expectedMagic & 0xff;
            var dimBytes = new byte[4 * rank];
            input.ReadExactly(dimBytes);
            var dims = new int[rank];
            long expected = 1;
            for (int d = 0; d < rank; d++)
            {
                dims[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * d));
                expected *= dims[d];
            }
            if (dims.Any(d => d <= 0) || expected > Array.MaxLength)
                throw new DataSetException($"{path} has an impossible idx shape [{string.Join(" x ", dims)}].", path);
            var data = new byte[expected];
            int read = input.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (read < data.Length)
                throw new DataSetException(
                    $"{path} is truncated: its header [{string.Join(" x ", dims)}] promises {expected} data bytes but it holds {read}. "
                    + "Delete it and fetch it again.", path);
            if (input.ReadByte() >= 0)
                throw new DataSetException($"{path} holds more data than its header [{string.Join(" x ", dims)}] says: the file is corrupt.", path);
            return (dims, data);
        }
        catch (InvalidDataException e)
        {
            throw new DataSetException($"{path} is not a valid gzip file ({e.Message}): truncated or corrupt. Delete it and fetch it again.", path, e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataSetException($"{path} is truncated: it ends inside its idx header. Delete it and fetch it again.", path, e);
        }
    }
}
