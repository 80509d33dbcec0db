using TorchSharp;

namespace MLCourse.Tests;

public class CourseTests
{
    [Theory]
    [InlineData(null, false, "cpu")]
    [InlineData("", true, "cuda")]
    [InlineData("cpu", true, "cpu")]
    [InlineData("CUDA", true, "cuda")]
    public void Device_follows_availability_and_the_override(string? requested, bool cuda, string expected)
    {
        var device = Course.ChooseDevice(requested, cuda);
        Assert.Equal(expected, device.ToString().ToLowerInvariant());
    }

    [Fact]
    public void Asking_for_cuda_without_a_gpu_says_what_to_do()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Course.ChooseDevice("cuda", cudaAvailable: false));
        Assert.Contains("MLCOURSE_DEVICE=cpu", error.Message);
    }

    [Fact]
    public void An_unknown_device_name_is_rejected() =>
        Assert.Throws<ArgumentException>(() => Course.ChooseDevice("tpu", cudaAvailable: false));

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("0", false)]
    [InlineData(null, false)]
    public void Quick_mode_reads_the_environment_flag(string? value, bool expected) =>
        Assert.Equal(expected, Course.IsTruthy(value));
}

/// <summary>Tests of torch's global generator: no other test may draw from it meanwhile.</summary>
[CollectionDefinition(nameof(GlobalGenerator), DisableParallelization = true)]
public sealed class GlobalGenerator;

[Collection(nameof(GlobalGenerator))]
public class SeedingTests
{
    [Fact]
    public void Seeding_makes_random_tensors_repeat()
    {
        Course.Seed(7);
        using var a = torch.rand(5);
        Course.Seed(7);
        using var b = torch.rand(5);
        Assert.True(a.allclose(b));
    }
}
