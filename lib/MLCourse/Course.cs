using TorchSharp;

namespace MLCourse;

/// <summary>
/// Course-wide settings every chapter starts from: the compute device, seeding and quick mode.
/// Introduced in chapter 00 (setup).
/// </summary>
/// <remarks>
/// Named <c>Course</c> rather than <c>Device</c> so that notebooks may also write
/// <c>using static TorchSharp.torch;</c> (which brings <c>torch.Device</c> into scope) without ambiguity.
/// </remarks>
public static class Course
{
    private static torch.Device? device;

    /// <summary>
    /// The device models and data go to: CUDA when a GPU is usable, else the CPU.
    /// The environment variable <c>MLCOURSE_DEVICE=cpu|cuda</c> overrides the choice.
    /// </summary>
    public static torch.Device Device
    {
        get => device ??= torch.device(ChooseDevice(Environment.GetEnvironmentVariable("MLCOURSE_DEVICE"), torch.cuda.is_available()));
        set => device = value;
    }

    /// <summary>
    /// True when <c>MLCOURSE_QUICK=1</c> (or <c>true</c>): chapters shrink epochs and data so every notebook
    /// runs in CI in seconds. The prose states the full-mode numbers.
    /// </summary>
    public static bool Quick
    {
        get => quick ?? IsTruthy(Environment.GetEnvironmentVariable("MLCOURSE_QUICK"));
        set => quick = value;
    }
    private static bool? quick;

    /// <summary>Picks <paramref name="full"/> normally and <paramref name="quick"/> in quick mode.</summary>
    public static T Pick<T>(T full, T quick) => Quick ? quick : full;

    /// <summary>Seeds TorchSharp (CPU and CUDA) and returns a seeded <see cref="Random"/> for managed code.</summary>
    public static Random Seed(int seed = 42)
    {
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
        return new Random(seed);
    }

    /// <summary>One line describing the runtime: TorchSharp version, device, threads and mode.</summary>
    public static string Describe() =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version} | device {Device.type.ToString().ToLowerInvariant()}"
        + $" | {torch.get_num_threads()} threads | {(Quick ? "quick mode" : "full mode")}";

    internal static DeviceType ChooseDevice(string? requested, bool cudaAvailable)
    {
        switch (requested?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                return cudaAvailable ? DeviceType.CUDA : DeviceType.CPU;
            case "cpu":
                return DeviceType.CPU;
            case "cuda" or "gpu":
                if (!cudaAvailable)
                    throw new InvalidOperationException(
                        "MLCOURSE_DEVICE=cuda but no CUDA device is usable: install an NVIDIA driver and build the workbook "
                        + "with the CUDA backend (dotnet build -p:TorchBackend=cuda; README \"GPU\"), or set MLCOURSE_DEVICE=cpu.");
                return DeviceType.CUDA;
            default:
                throw new ArgumentException($"MLCOURSE_DEVICE must be 'cpu', 'cuda' or 'auto', not '{requested}'.");
        }
    }

    internal static bool IsTruthy(string? value) =>
        value is not null && (value.Trim() is "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase)
                                                 || value.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase));
}
