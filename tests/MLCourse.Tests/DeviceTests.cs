using MLCourse.Attacks;
using MLCourse.Data;
using MLCourse.Explain;
using MLCourse.Models;
using MLCourse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests;

/// <summary>
/// The device test mode: the library's training, evaluation, generation, sampling, loading, saliency and attack paths
/// run with the model and the data on a second device that the CPU build of libtorch has, <c>meta</c> (tensors with a
/// shape and no values), so that anything the library creates on the CPU instead of on the data's device shows up in
/// CI without a GPU. Meta catches some mixes itself (an element-wise op between a meta and a CPU tensor throws, as a
/// CUDA/CPU mix does) but not all (a CPU <c>Linear</c> accepts a meta input), and it has no kernels for convolutions,
/// embeddings, batch and layer norm or sampling (<c>multinomial</c>): for those paths the tests assert the device of
/// what the library creates explicitly. Never hand a CPU <c>Generator</c> to a meta <c>randperm</c> here: libtorch
/// kills the process (SIGSEGV).
/// </summary>
public class DeviceTests
{
    private static readonly Device Meta = torch.device("meta");

    private static Mlp MetaMlp(int inputs = 6, int outputs = 3)
    {
        // Tanh: meta has no ReLU kernel (aten::relu falls back to "no Meta kernel registered").
        var net = new Mlp(new MlpConfig(InputSize: inputs, HiddenSizes: [8], OutputSize: outputs, Activation: Activation.Tanh));
        net.to(Meta);
        Assert.All(net.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        return net;
    }

    [Fact]
    public void The_meta_device_catches_a_CPU_tensor_meeting_a_meta_tensor()
    {
        using var onMeta = torch.ones(3, device: Meta);
        using var onCpu = torch.ones(3);
        var error = Assert.ThrowsAny<Exception>(() => onMeta + onCpu);
        Assert.Contains("same device", error.Message);
    }

    [Fact]
    public void The_trainer_fits_and_evaluates_on_the_data_device_with_shuffled_batches()
    {
        foreach (var useCourseAdam in new[] { true, false })
        {
            var net = MetaMlp();
            double lr = useCourseAdam ? 0.01 : 0.1;
            optim.Optimizer optimizer = useCourseAdam ? new Adam(net.parameters(), lr: lr) : new SGD(net.parameters(), lr);
            var trainer = new Trainer(net, optimizer, nn.CrossEntropyLoss())
            {
                Scheduler = optim.lr_scheduler.StepLR(optimizer, step_size: 1, gamma: 0.5),
            };
            using var X = torch.randn(40, 6, device: Meta);
            using var y = torch.randint(0, 3, [40], dtype: ScalarType.Int64, device: Meta);
            var history = trainer.Fit(new TensorLoader(X, y, 8, shuffle: true, seed: 1), numEpochs: 2,
                                      validation: new TensorLoader(X, y, 16, shuffle: true));
            Assert.Equal(2, history.Count);
            Assert.True(double.IsNaN(history.Last.Train.Loss));           // meta tensors carry no values
            Assert.True(double.IsNaN(history.Last.Validation!.Loss));
            var evaluation = trainer.Evaluate(new TensorLoader(X, y, 16));
            Assert.True(double.IsNaN(evaluation.Loss));
            Assert.All(net.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
            Assert.Equal(lr / 4, optimizer.ParamGroups.Single().LearningRate, 12);        // two epochs of StepLR(γ = 0.5)
        }
    }

    [Fact]
    public void The_trainer_stops_with_a_clear_message_when_the_model_is_not_on_the_datas_device()
    {
        // A CPU Linear accepts a meta input without complaint (meta does not catch this mix); the trainer checks itself.
        var net = new Mlp(new MlpConfig(InputSize: 6, HiddenSizes: [8], OutputSize: 3, Activation: Activation.Tanh));
        var trainer = new Trainer(net, new SGD(net.parameters(), 0.1), nn.CrossEntropyLoss());
        using var X = torch.randn(8, 6, device: Meta);
        using var y = torch.zeros(8, dtype: ScalarType.Int64, device: Meta);
        foreach (var run in new Action[] { () => trainer.Fit(new TensorLoader(X, y, 4), 1), () => trainer.Evaluate(new TensorLoader(X, y, 4)) })
        {
            var error = Assert.Throws<InvalidOperationException>(run);
            Assert.Contains("parameters are on cpu but the batches are on meta", error.Message);
            Assert.Contains("net.to(Course.Device)", error.Message);
        }
    }

    [Fact]
    public void The_loader_shuffles_on_the_data_device()
    {
        using var X = torch.randn(10, 3, device: Meta);
        using var y = torch.zeros(10, device: Meta);
        var loader = new TensorLoader(X, y, 4, shuffle: true, seed: 2);
        int batches = 0;
        foreach (var (xb, yb) in loader)
        {
            Assert.Equal(DeviceType.META, xb.device_type);
            Assert.Equal(DeviceType.META, yb.device_type);
            batches++;
        }
        Assert.Equal(3, batches);
        using var order = loader.Permutation(10);
        Assert.Equal(DeviceType.META, order.device_type);
    }

    [Fact]
    public void Saliency_maps_are_made_on_the_inputs_device()
    {
        var net = MetaMlp();
        Func<Tensor, Tensor> model = x => net.call(x);
        using var X = torch.randn(5, 6, device: Meta);
        using var target = torch.zeros(5, dtype: ScalarType.Int64, device: Meta);
        foreach (var map in new[]
                 {
                     Saliency.Gradient(model, X, target),
                     Saliency.SmoothGrad(model, X, target, samples: 3, seed: 4),
                     Saliency.IntegratedGradients(model, X, target, steps: 3),
                 })
        {
            Assert.Equal(DeviceType.META, map.device_type);
            Assert.Equal(X.shape, map.shape);
        }
        var imageNet = MetaMlp(inputs: 16);
        using var images = torch.rand(2, 1, 4, 4, device: Meta);
        using var occlusion = Saliency.Occlusion(x => imageNet.call(x.flatten(1)), images, target[..2], patch: 2, stride: 2);
        Assert.Equal(DeviceType.META, occlusion.device_type);
    }

    [Fact]
    public void Attacks_perturb_on_the_inputs_device()
    {
        var net = MetaMlp();
        using var X = torch.rand(4, 6, device: Meta);
        using var y = torch.zeros(4, dtype: ScalarType.Int64, device: Meta);
        using var fgsm = Adversarial.Fgsm(net, X, y, epsilon: 0.1);
        using var pgd = Adversarial.Pgd(net, X, y, epsilon: 0.1, stepSize: 0.05, steps: 2, randomStart: true);
        Assert.Equal(DeviceType.META, fgsm.device_type);
        Assert.Equal(DeviceType.META, pgd.device_type);
    }

    [Fact]
    public void Diffusion_trains_and_samples_on_the_models_device()
    {
        var net = MetaMlp(inputs: 2 + 4, outputs: 2);
        Tensor Predictor(Tensor xt, Tensor t)
        {
            using var time = Ddpm.TimeEmbedding(t, 4);                                 // (B, 4) on t's device
            using var input = torch.cat([xt, time], 1);                                // (B, 6)
            return net.call(input);
        }
        var ddpm = new Ddpm(new NoiseSchedule(5));
        using var x0 = torch.randn(8, 2, device: Meta);
        using var loss = ddpm.Loss(Predictor, x0);                                     // (meta has no mse_loss_backward)
        Assert.Equal(DeviceType.META, loss.device_type);
        var seen = new List<DeviceType>();
        using var samples = ddpm.Sample(Predictor, [3, 2], device: Meta, onStep: (_, x) => seen.Add(x.device_type));
        Assert.Equal(DeviceType.META, samples.device_type);
        Assert.Equal(Enumerable.Repeat(DeviceType.META, 5), seen);
        Assert.Same(ddpm.Schedule.AlphaBarTable(Meta, ScalarType.Float32), ddpm.Schedule.AlphaBarTable(Meta, ScalarType.Float32));
    }

    [Fact]
    public void The_VAE_draws_its_noise_on_the_device_of_the_mean()
    {
        // Meta has no ReLU kernel, so the VAE's layers cannot run there: its sampling step and its KL term are checked.
        using var mean = torch.zeros(4, 2, device: Meta);
        using var logVariance = torch.zeros(4, 2, device: Meta);
        using var z = Vae.Reparameterize(mean, logVariance);
        using var kl = Vae.KlDivergence(mean, logVariance);
        Assert.Equal(DeviceType.META, z.device_type);
        Assert.Equal(DeviceType.META, kl.device_type);
    }

    [Fact]
    public void A_GAN_generator_draws_its_latent_noise_on_its_own_device()
    {
        // Meta has no transposed-convolution kernel: the device of what the generator creates is asserted instead.
        var generator = new GanGenerator(GanConfig.Presets["tiny"]);
        using (var onCpu = generator.SampleLatent(2)) Assert.Equal(DeviceType.CPU, onCpu.device_type);
        generator.to(Meta);
        using var z = generator.SampleLatent(5);
        Assert.Equal(DeviceType.META, z.device_type);
        Assert.Equal(new long[] { 5, 16 }, z.shape);
    }

    [Fact]
    public void GPT_generation_feeds_the_model_tokens_on_the_models_device()
    {
        // Meta has no embedding kernel: a hook records the device of the tokens Generate feeds the model, then stops it.
        var gpt = new Gpt(new GptConfig(VocabSize: 8, Hidden: 8, Layers: 1, Heads: 2, Intermediate: 16, Context: 6));
        gpt.to(Meta);
        gpt.train();
        DeviceType? fed = null;
        var hook = gpt.register_forward_pre_hook((_, ids) =>
        {
            fed = ids.device_type;
            throw new StopGeneration();
        });
        Assert.Throws<StopGeneration>(() => gpt.Generate([1, 2, 3], count: 2));
        hook.remove();
        Assert.Equal(DeviceType.META, fed);
        Assert.True(gpt.training);                                                      // the caller's mode comes back
    }

    private sealed class StopGeneration : Exception;
}

/// <summary>Tests that change <see cref="Course.Device"/>, which every test reads: they run alone.</summary>
[CollectionDefinition(nameof(CourseDeviceChanges), DisableParallelization = true)]
public sealed class CourseDeviceChanges;

[Collection(nameof(CourseDeviceChanges))]
public class CourseDeviceTests
{
    [Fact]
    public void A_sampler_given_no_device_samples_on_the_course_device()
    {
        var before = Course.Device;
        try
        {
            Course.Device = torch.device("meta");
            var ddpm = new Ddpm(new NoiseSchedule(3));
            using var samples = ddpm.Sample((x, _) => torch.zeros_like(x), [2, 3]);
            Assert.Equal(DeviceType.META, samples.device_type);
        }
        finally
        {
            Course.Device = before;
        }
    }
}
