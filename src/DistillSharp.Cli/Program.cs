AppDomain.CurrentDomain.UnhandledException += DistillSharp.Cli.CommandRunner.OnUnhandled;
return DistillSharp.Cli.DistillCli.Run(args);
