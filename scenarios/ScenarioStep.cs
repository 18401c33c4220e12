namespace HcrLab.Scenarios;

/// <summary>
/// One line of a steps file, with the output lines (<c>&gt; text</c>) expected after it. <see cref="Text"/> is the step as
/// written, with single spaces: the line the expected transcript shows.
/// </summary>
public abstract record ScenarioStep(int Line, string Text)
{
    /// <summary>The lines the modules must print while this step runs, exactly and in order.</summary>
    public IReadOnlyList<string> ExpectedOutput { get; init; } = [];
}

/// <summary><c>use a v2</c>: put version 2 of module a in place as the module's library (a.v2.c, built; or a.v2.so as it is).</summary>
public sealed record UseStep(int Line, string Text, string Module, int Version) : ScenarioStep(Line, Text);

/// <summary><c>start a b</c>: start the runtime with the root's imports.</summary>
public sealed record StartStep(int Line, string Text, IReadOnlyList<string> Imports, ExpectedError? Error) : ScenarioStep(Line, Text);

/// <summary><c>call a value 41 -&gt; 42</c>: call a proc through its slot with integer arguments; no <c>-&gt;</c> accepts any result.</summary>
public sealed record CallStep(int Line, string Text, string Module, string Proc, IReadOnlyList<long> Arguments, long? Result, ExpectedError? Error)
    : ScenarioStep(Line, Text);

/// <summary><c>global a counter -&gt; 3</c>: read an integer global of 1, 2, 4 or 8 bytes (its registered size), sign-extended.</summary>
public sealed record GlobalStep(int Line, string Text, string Module, string Name, long? Value, ExpectedError? Error) : ScenarioStep(Line, Text);

/// <summary><c>reload-needed -&gt; yes|no</c>.</summary>
public sealed record ReloadNeededStep(int Line, string Text, bool Needed) : ScenarioStep(Line, Text);

/// <summary>
/// <c>reload</c> (an effective reload), <c>reload -&gt; unchanged</c>, <c>reload -&gt; loaded a b unloaded c</c> or
/// <c>reload -&gt; error a[: text]</c>.
/// </summary>
public sealed record ReloadStep(int Line, string Text, ReloadExpectation Expect) : ScenarioStep(Line, Text);

/// <summary><c>bad-call a removed</c>: calling the slot that proc had reports a bad call naming module and proc, and returns 0.</summary>
public sealed record BadCallStep(int Line, string Text, string Module, string Proc) : ScenarioStep(Line, Text);

/// <summary><c>generation -&gt; 1</c>.</summary>
public sealed record GenerationStep(int Line, string Text, long Generation) : ScenarioStep(Line, Text);

/// <summary><c>modules -&gt; a b</c>: the loaded modules, in name order (the host excluded).</summary>
public sealed record ModulesStep(int Line, string Text, IReadOnlyList<string> Modules) : ScenarioStep(Line, Text);

/// <summary><c>main-handlers</c>: the host (root module) adds handlers that print <c>main before</c> and <c>main after</c>.</summary>
public sealed record MainHandlersStep(int Line, string Text) : ScenarioStep(Line, Text);

/// <summary>
/// An expected failure: <c>error</c>, <c>error a</c> (a module load failure naming module a) or either followed by
/// <c>: text</c> (the message contains the text).
/// </summary>
public sealed record ExpectedError(string? Module, string? MessagePart)
{
    public bool Matches(string? module, string message) =>
        (Module is null || Module == module) && (MessagePart is null || message.Contains(MessagePart, StringComparison.Ordinal));
}

/// <summary>What a <see cref="ReloadStep"/> expects.</summary>
public sealed record ReloadExpectation(ReloadExpectationKind Kind, IReadOnlyList<string> Loaded, IReadOnlyList<string> Unloaded, ExpectedError? Error)
{
    public static ReloadExpectation AnyChange { get; } = new(ReloadExpectationKind.AnyChange, [], [], null);

    public static ReloadExpectation Unchanged { get; } = new(ReloadExpectationKind.Unchanged, [], [], null);
}

public enum ReloadExpectationKind
{
    /// <summary><c>reload</c>: something changed and the reload succeeded.</summary>
    AnyChange,

    /// <summary><c>reload -&gt; unchanged</c>: nothing changed; nothing ran.</summary>
    Unchanged,

    /// <summary><c>reload -&gt; loaded a b unloaded c</c>: exactly these modules were loaded and unloaded.</summary>
    Exactly,

    /// <summary><c>reload -&gt; error a[: text]</c>: refused.</summary>
    Error,
}
