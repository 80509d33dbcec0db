using System.Buffers.Binary;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Data;

/// <summary>Reads the idx format of MNIST-style files (optionally gzip-compressed), streaming into one array.</summary>
internal static class Idx
{
    internal const int ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
    internal const int LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension

    /// <summary>Checks the magic number and the length; returns the dimensions and the data bytes.</summary>
    internal static (int[] Dims, byte[] Data) Read(string path, int expectedMagic) =>
        Parse(path, expectedMagic, (input, expected) =>
        {
            var data = new byte[expected];
            return (data, input.ReadAtLeast(data, data.Length, throwOnEndOfStream: false));
        });

    /// <summary>
    /// As <see cref="Read"/>, but the data bytes go straight into a one-dimensional <c>uint8</c> tensor on the CPU,
    /// through a small buffer: no managed copy of the whole file (47 MB for MNIST's training images) is left on the
    /// large-object heap, where it would stay resident until a full garbage collection that training never triggers.
    /// </summary>
    internal static (int[] Dims, Tensor Data) ReadTensor(string path, int expectedMagic) =>
        Parse(path, expectedMagic, (input, expected) =>
        {
            var data = torch.empty(expected, dtype: ScalarType.Byte);
            var buffer = new byte[1 << 16];
            long read = 0;
            try
            {
                while (read < expected)
                {
                    int got = input.ReadAtLeast(buffer.AsSpan(0, (int)Math.Min(buffer.Length, expected - read)), 1, throwOnEndOfStream: false);
                    if (got == 0) break;
                    using var slice = data.narrow(0, read, got);
                    slice.bytes = buffer.AsSpan(0, got);
                    read += got;
                }
            }
            catch
            {
                data.Dispose();
                throw;
            }
            return (data, read);
        });

    /// <summary>Reads the header, then the data with <paramref name="readData"/> (which returns the data and how many bytes it got).</summary>
    private static (int[] Dims, T Data) Parse<T>(string path, int expectedMagic, Func<Stream, long, (T Data, long Read)> readData)
        where T : class
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
            var (data, read) = readData(input, expected);
            if (read < expected)
            {
                (data as IDisposable)?.Dispose();
                throw new DataSetException(
                    $"{path} is truncated: its header [{string.Join(" x ", dims)}] promises {expected} data bytes but it holds {read}. "
                    + "Delete it and fetch it again.", path);
            }
            if (input.ReadByte() >= 0)
            {
                (data as IDisposable)?.Dispose();
                throw new DataSetException($"{path} holds more data than its header [{string.Join(" x ", dims)}] says: the file is corrupt.", path);
            }
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
