// The scenario host's entry: `hcrlab-scenario-host SCENARIO WORK`, the same child as `hcrlab scenario host`.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: hcrlab-scenario-host SCENARIO-FOLDER WORK-FOLDER (the child of 'hcrlab scenario run')");
    return 2;
}

return HcrLab.Scenarios.ScenarioHost.Run(Path.GetFullPath(args[0]), Path.GetFullPath(args[1]), Console.In, Console.Out);
