using GanOnnx.Cli;

return GanOnnxCli.Run(args, Console.Out, Console.Error);
