namespace HcrLab.Scenarios;

/// <summary>A scenario folder lacks a file its steps need (a module version named by a <c>use</c> step).</summary>
public sealed class ScenarioFileException(string message) : Exception(message);
