using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchSharpRMSProp = TorchSharp.Modules.RMSProp;

namespace GanOnnx.Trainer.Training.Optimizers;

/// <summary>
/// TorchSharp's RMSprop with the same arithmetic in the same order (bit-identical updates, the same saved state), but with
/// every Scalar held for the length of the native call that reads it (<see cref="HeldScalars"/>; see <see cref="Adam"/>, which
/// also says why the class keeps TorchSharp's name).
/// </summary>
internal sealed class RMSProp(IEnumerable<Parameter> parameters, double lr, double alpha, double eps)
    : TorchSharpRMSProp(parameters, lr, alpha, eps)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        var maximize = options.maximize!.Value;
        var momentum = options.momentum!.Value;
        var alpha = options.alpha!.Value;
        var weightDecay = options.weight_decay!.Value;
        var centered = options.centered!.Value;
        var eps = options.eps!.Value;
        var lr = options.LearningRate!.Value;
        using var scalars = new HeldScalars();
        Scalar keep = scalars.Of(alpha), take = scalars.Of(1 - alpha), epsilon = scalars.Of(eps), one = scalars.Of(1), step = scalars.Of(-lr);
        foreach (var param in group.Parameters)
        {
            var grad = scalars.Gradient(param, maximize, weightDecay);
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            state.square_avg.mul_(keep).addcmul_(grad, grad, value: take);
            Tensor avg;
            if (centered)
            {
                state.grad_avg.mul_(keep).add_(grad, alpha: take);
                avg = state.square_avg.addcmul(state.grad_avg, state.grad_avg, value: scalars.Of(-1)).sqrt_().add_(epsilon, one);
            }
            else
            {
                avg = state.square_avg.sqrt().add_(epsilon, one);
            }
            if (momentum > 0)
            {
                state.momentum_buffer.mul_(scalars.Of(momentum)).addcdiv_(grad, avg, one);
                param.add_(state.momentum_buffer, alpha: step);
            }
            else
            {
                param.addcdiv_(grad, avg, step);
            }
        }
    }, closure);
}
