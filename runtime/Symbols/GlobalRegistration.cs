namespace HcrLab.Runtime;

/// <summary>The result of registering a global: its address, and whether it is new (so its initializer must run).</summary>
public readonly record struct GlobalRegistration(nint Address, bool IsNew);
