using TorchSharp;

namespace MLCourse.Tests;

public class NativeBlasTests
{
    [Fact]
    public void Mkl_keeps_libtorchs_own_blas()
    {
        Assert.False(NativeBlas.Choose("mkl"));
        Assert.False(NativeBlas.Choose(" MKL "));
    }

    [SkippableFact]
    public void Openblas_asked_for_after_libtorch_loaded_says_why_and_changes_nothing()
    {
        using var _ = torch.ones(1);                      // libtorch is loaded in this process from here on
        Skip.If(NativeBlas.Loaded is not null, "this process loaded OpenBLAS before libtorch");
        var error = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            Assert.False(NativeBlas.Choose("openblas"));
        }
        finally { Console.SetError(error); }
        Assert.Null(NativeBlas.Loaded);
        Assert.Contains(OperatingSystem.IsLinux() ? "too late" : "Linux x64 only", captured.ToString());
    }
}
