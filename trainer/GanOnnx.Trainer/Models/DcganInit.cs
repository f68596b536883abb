using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>The DCGAN paper's initialisation: conv weights N(0, 0.02), BatchNorm scale N(1, 0.02) and shift 0.</summary>
internal static class DcganInit
{
    public static void Apply(Module module)
    {
        using var _ = no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            switch (child)
            {
                case Convolution conv:
                    init.normal_(conv.weight!, 0.0, 0.02);
                    break;
                case VerifiedConv2d conv:
                    init.normal_(conv.Weight, 0.0, 0.02);
                    break;
                case VerifiedConvTranspose2d conv:
                    init.normal_(conv.Weight, 0.0, 0.02);
                    break;
                case BatchNorm bn when bn.weight is not null && bn.bias is not null:
                    init.normal_(bn.weight, 1.0, 0.02);
                    init.zeros_(bn.bias);
                    break;
            }
        }
    }
}
