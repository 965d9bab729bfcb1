return DistillSharp.Cli.DistillCli.Run(args);
