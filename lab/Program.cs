using HcrLab.Lab.Cli;

return HcrLabCli.Run(args, Console.In, Console.Out, Console.Error);
