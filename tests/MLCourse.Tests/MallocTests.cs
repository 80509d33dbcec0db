namespace MLCourse.Tests;

public class MallocTests
{
    [SkippableFact]
    public void Tune_applies_the_settings_on_Linux_and_the_environment_form_names_the_same_values()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "mallopt is glibc's");
        Skip.If(Environment.GetEnvironmentVariable("MLCOURSE_MALLOC") == "default", "MLCOURSE_MALLOC=default");
        Assert.True(Malloc.Tune());
        Assert.True(Malloc.Tuned);
        Assert.Equal((32 << 20).ToString(), Malloc.EnvironmentVariables["MALLOC_MMAP_THRESHOLD_"]);
        Assert.Equal(3, Malloc.EnvironmentVariables.Count);
    }
}
