using GanOnnx.Trainer.Cli;
using GanOnnx.Trainer.Diagnostics;

NativeAllocator.KeepLargeBuffersInHeap();
return TrainerCli.Run(args, Console.Out, Console.Error);
