using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchSharpAdam = TorchSharp.Modules.Adam;

namespace GanOnnx.Trainer.Training.Optimizers;

/// <summary>
/// TorchSharp's Adam with the same arithmetic in the same order (bit-identical updates, the same saved state), but with
/// every Scalar held for the length of the native call that reads it (<see cref="HeldScalars"/>). TorchSharp 0.107's own
/// step passes implicit Scalars (1 − β₂, −step size …) whose native values a collection on another thread can free mid-call
/// (TorchSharp pull requests 1434 and 1496). The class is named Adam because a saved state names its optimizer by the type's
/// short name: checkpoints written with TorchSharp's Adam load into this one, and the other way.
/// </summary>
internal sealed class Adam(IEnumerable<Parameter> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999)
    : TorchSharpAdam(parameters, lr, beta1, beta2)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        var beta1 = options.beta1!.Value;
        var beta2 = options.beta2!.Value;
        var weightDecay = options.weight_decay!.Value;
        var maximize = options.maximize!.Value;
        var eps = options.eps!.Value;
        var lr = options.LearningRate!.Value;
        if (options.amsgrad == true) throw new NotSupportedException("AMSGrad is not implemented here.");
        using var scalars = new HeldScalars();
        Scalar keep1 = scalars.Of(beta1), take1 = scalars.Of(1 - beta1), keep2 = scalars.Of(beta2), take2 = scalars.Of(1 - beta2);
        Scalar epsilon = scalars.Of(eps), one = scalars.Of(1);
        foreach (var param in group.Parameters)
        {
            var grad = scalars.Gradient(param, maximize, weightDecay);
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(keep1).add_(grad, alpha: take1);
            state.exp_avg_sq.mul_(keep2).addcmul_(grad, grad.conj(), value: take2);
            var denom = (state.exp_avg_sq.sqrt() / scalars.Of(Math.Sqrt(biasCorrection2))).add_(epsilon, one);
            param.addcdiv_(state.exp_avg, denom, value: scalars.Of(-(lr / biasCorrection1)));
        }
    }, closure);
}
