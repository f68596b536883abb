using GanOnnx.Trainer.Cli;

return TrainerCli.Run(args, Console.Out, Console.Error);
