using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>
/// libtorch's fused Adam kernel (<c>torch._fused_adam_</c>, what <c>torch.optim.Adam(fused=True)</c> runs in PyTorch 2),
/// which TorchSharp 0.107 does not expose. On a CPU it updates each parameter in one multi-threaded, vectorised pass —
/// reading p, g, m and v once and writing p, m and v once — where the same update as tensor operations takes eight
/// passes over every tensor. For the bench's Fashion-MNIST MLP (784-512-256-10, 535,818 parameters) that is most of the
/// optimizer step's time.
/// <para>The kernel is reached through libtorch's operator entry point (<c>at::_ops::_fused_adam_::call</c>), a C++
/// function looked up by its mangled name on Linux x64 only; elsewhere, or where another libtorch lacks the symbol,
/// <see cref="Available"/> is false and <see cref="Adam"/> takes its tensor operations, with the same update. The kernel
/// checks little (only the lengths of the lists), works on raw memory over each parameter's <c>numel()</c>, and does not
/// move the parameters' version counters; so <see cref="Adam"/> checks device, dtype, contiguity and sizes before calling
/// it and moves the counters itself. A C++ exception thrown in here would end the process: no TorchSharp wrapper catches
/// it.</para>
/// </summary>
internal static unsafe class FusedAdamKernel
{
    // void at::_ops::_fused_adam_::call(TensorList self, TensorList grads, TensorList exp_avgs, TensorList exp_avg_sqs,
    //     TensorList max_exp_avg_sqs, TensorList state_steps, double lr, double beta1, double beta2, double weight_decay,
    //     double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf)
    private const string Symbol =
        "_ZN2at4_ops12_fused_adam_4callEN3c108ArrayRefINS_6TensorEEES5_S5_S5_S5_S5_dddddbbRKSt8optionalIS4_ES9_";

    // at::_ops::_fused_adamw_::call, torch.optim.AdamW(fused=True): the same arguments, weight_decay decoupled.
    private const string SymbolW =
        "_ZN2at4_ops13_fused_adamw_4callEN3c108ArrayRefINS_6TensorEEES5_S5_S5_S5_S5_dddddbbRKSt8optionalIS4_ES9_";

    /// <summary>A <c>c10::ArrayRef&lt;at::Tensor&gt;</c>: a pointer to <paramref name="Length"/> tensors (each one pointer).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct TensorList(IntPtr Data, nint Length);

    /// <summary>A disengaged <c>std::optional&lt;at::Tensor&gt;</c> (libstdc++: the tensor's pointer, then the flag).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NoTensor { public IntPtr Payload; public long Engaged; }

    private static readonly delegate* unmanaged<TensorList, TensorList, TensorList, TensorList, TensorList, TensorList,
        double, double, double, double, double, byte, byte, NoTensor*, NoTensor*, void> Call = Resolve(Symbol);

    private static readonly delegate* unmanaged<TensorList, TensorList, TensorList, TensorList, TensorList, TensorList,
        double, double, double, double, double, byte, byte, NoTensor*, NoTensor*, void> CallW = Resolve(SymbolW);

    /// <summary>Whether libtorch's fused Adam kernel (<paramref name="decoupledWeightDecay"/> 0) or AdamW kernel was found
    /// (Linux x64 with TorchSharp 0.107's libtorch) and <c>MLCOURSE_FUSED_ADAM</c> is not 0.</summary>
    public static bool Available(double decoupledWeightDecay) =>
        (decoupledWeightDecay == 0 ? Call != null : CallW != null) && Environment.GetEnvironmentVariable("MLCOURSE_FUSED_ADAM") != "0";

    private static delegate* unmanaged<TensorList, TensorList, TensorList, TensorList, TensorList, TensorList,
        double, double, double, double, double, byte, byte, NoTensor*, NoTensor*, void> Resolve(string symbol)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        using (var probe = zeros(1)) { }                                   // makes sure TorchSharp has loaded libtorch
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var library)) return null;
        return NativeLibrary.TryGetExport(library, symbol, out var entry)
            ? (delegate* unmanaged<TensorList, TensorList, TensorList, TensorList, TensorList, TensorList,
                double, double, double, double, double, byte, byte, NoTensor*, NoTensor*, void>)entry
            : null;
    }

    /// <summary>
    /// One Adam step (no AMSGrad) of every tensor in <paramref name="parameters"/>, in place, with the step counts in
    /// <paramref name="steps"/> (0-dimensional tensors holding t, already counted for this step): AdamW's, with
    /// <paramref name="decoupledWeightDecay"/> (p ← p·(1 − lr·λ) first), when that is not 0. All tensors must be
    /// contiguous, on the CPU, and each parameter's gradient and moments of its dtype and shape.
    /// </summary>
    public static void Step(Tensor[] parameters, Tensor[] grads, Tensor[] expAvgs, Tensor[] expAvgSqs, Tensor[] steps,
                            double lr, double beta1, double beta2, double eps, double decoupledWeightDecay = 0)
    {
        int n = parameters.Length;
        // An at::Tensor is one pointer (to its TensorImpl); a TorchSharp handle points to an at::Tensor. The five lists
        // lie one after another in one array: parameters, gradients, first moments, second moments, step counts.
        var values = new IntPtr[5 * n];
        Tensor[][] lists = [parameters, grads, expAvgs, expAvgSqs, steps];
        for (int list = 0; list < lists.Length; list++)
            for (int i = 0; i < n; i++)
                values[list * n + i] = *(IntPtr*)lists[list][i].Handle;
        NoTensor gradScale = default, foundInf = default;
        var call = decoupledWeightDecay != 0 ? CallW : Call;
        fixed (IntPtr* v = values)
            call(new TensorList((IntPtr)v, n), new TensorList((IntPtr)(v + n), n), new TensorList((IntPtr)(v + 2 * n), n),
                 new TensorList((IntPtr)(v + 3 * n), n), new TensorList(IntPtr.Zero, 0), new TensorList((IntPtr)(v + 4 * n), n),
                 lr, beta1, beta2, decoupledWeightDecay, eps, 0, 0, &gradScale, &foundInf);
        GC.KeepAlive(lists);
    }
}
