using GanOnnx.Trainer.Cli;

NativeAllocator.KeepLargeBuffersInHeap();
return TrainerCli.Run(args, Console.Out, Console.Error);
