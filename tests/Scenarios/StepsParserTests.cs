using HcrLab.Scenarios;

namespace HcrLab.Tests.Scenarios;

/// <summary>The steps file format: every kind of step read exactly, and malformed lines named by file and line.</summary>
[TestFixture]
[Category("Scenarios")]
public sealed class StepsParserTests
{
    private const string File = "demo/steps.hcr";

    [Test]
    public void EveryStepKindIsReadWithItsExpectedOutput()
    {
        var steps = StepsParser.Parse("""
            # a comment, then a blank line

            use a v2
            main-handlers
            start a   b
            > a top-level
            >
            >  two spaces
            call a value 41 -0x10 -> 42
            call a hello
            call a gone -> error: has no proc
            global a counter -> 0xff
            global b counter -> error: unknown module 'b'
            reload-needed -> yes
            reload
            reload -> unchanged
            reload -> loaded a b unloaded c
            reload -> error b
            start x -> error b: missing export: Init000
            bad-call a removed
            generation -> 1
            modules -> none
            modules -> a c
            """, File);

        Assert.That(steps.Select(s => $"{s.Line}: {s.GetType().Name}: {s.Text}"), Is.EqualTo(new[]
        {
            "3: UseStep: use a v2",
            "4: MainHandlersStep: main-handlers",
            "5: StartStep: start a b",
            "9: CallStep: call a value 41 -0x10 -> 42",
            "10: CallStep: call a hello",
            "11: CallStep: call a gone -> error: has no proc",
            "12: GlobalStep: global a counter -> 0xff",
            "13: GlobalStep: global b counter -> error: unknown module 'b'",
            "14: ReloadNeededStep: reload-needed -> yes",
            "15: ReloadStep: reload",
            "16: ReloadStep: reload -> unchanged",
            "17: ReloadStep: reload -> loaded a b unloaded c",
            "18: ReloadStep: reload -> error b",
            "19: StartStep: start x -> error b: missing export: Init000",
            "20: BadCallStep: bad-call a removed",
            "21: GenerationStep: generation -> 1",
            "22: ModulesStep: modules -> none",
            "23: ModulesStep: modules -> a c",
        }));

        Assert.That((((UseStep)steps[0]).Module, ((UseStep)steps[0]).Version), Is.EqualTo(("a", 2)));
        Assert.That(((StartStep)steps[2]).Imports, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(steps[2].ExpectedOutput, Is.EqualTo(new[] { "a top-level", "", " two spaces" }));
        Assert.That(steps.Where(s => s != steps[2]).SelectMany(s => s.ExpectedOutput), Is.Empty);

        var call = (CallStep)steps[3];
        Assert.That((call.Module, call.Proc, call.Result, call.Error), Is.EqualTo(("a", "value", (long?)42, (ExpectedError?)null)));
        Assert.That(call.Arguments, Is.EqualTo(new[] { 41L, -16L }));
        Assert.That((((CallStep)steps[4]).Arguments.Count, ((CallStep)steps[4]).Result), Is.EqualTo((0, (long?)null)));
        Assert.That(((CallStep)steps[5]).Error, Is.EqualTo(new ExpectedError(null, "has no proc")));

        Assert.That((((GlobalStep)steps[6]).Name, ((GlobalStep)steps[6]).Value), Is.EqualTo(("counter", (long?)255)));
        Assert.That(((GlobalStep)steps[7]).Error, Is.EqualTo(new ExpectedError(null, "unknown module 'b'")));
        Assert.That(((ReloadNeededStep)steps[8]).Needed, Is.True);

        Assert.That(((ReloadStep)steps[9]).Expect, Is.SameAs(ReloadExpectation.AnyChange));
        Assert.That(((ReloadStep)steps[10]).Expect, Is.SameAs(ReloadExpectation.Unchanged));
        var loaded = ((ReloadStep)steps[11]).Expect;
        Assert.That((loaded.Kind, loaded.Loaded, loaded.Unloaded), Is.EqualTo((ReloadExpectationKind.Exactly, new[] { "a", "b" }, new[] { "c" })));
        var refused = ((ReloadStep)steps[12]).Expect;
        Assert.That((refused.Kind, refused.Error), Is.EqualTo((ReloadExpectationKind.Error, new ExpectedError("b", null))));
        Assert.That(((StartStep)steps[13]).Error, Is.EqualTo(new ExpectedError("b", "missing export: Init000")));

        Assert.That((((BadCallStep)steps[14]).Module, ((BadCallStep)steps[14]).Proc), Is.EqualTo(("a", "removed")));
        Assert.That(((GenerationStep)steps[15]).Generation, Is.EqualTo(1));
        Assert.That(((ModulesStep)steps[16]).Modules, Is.Empty);
        Assert.That(((ModulesStep)steps[17]).Modules, Is.EqualTo(new[] { "a", "c" }));
    }

    [TestCase("cal a value", "demo/steps.hcr:2: unknown step 'cal'; a step is one of: use, start, call, global, reload-needed, reload, bad-call, generation, modules, main-handlers")]
    [TestCase("call a value x -> 1", "demo/steps.hcr:2: 'x' is not a 64-bit integer (decimal, or hexadecimal with 0x)")]
    [TestCase("call a value 1 -> 9223372036854775808", "demo/steps.hcr:2: '9223372036854775808' is not a 64-bit integer (decimal, or hexadecimal with 0x)")]
    [TestCase("call a", "demo/steps.hcr:2: 'call a' is not a call step: write call MODULE PROC [INTEGER...] [-> INTEGER | -> error: TEXT]")]
    [TestCase("call a p 1 2 3 4 5 6 7", "demo/steps.hcr:2: 'call a p 1 2 3 4 5 6 7' is not a call step: write a call takes at most 6 arguments")]
    [TestCase("global a counter", "demo/steps.hcr:2: 'global a counter' is not a global step: write global MODULE NAME -> INTEGER | -> error: TEXT")]
    [TestCase("use a 2", "demo/steps.hcr:2: 'use a 2' is not a use step: write use MODULE vN (a version is 'v' and a number, e.g. v2)")]
    [TestCase("reload-needed -> maybe", "demo/steps.hcr:2: 'reload-needed -> maybe' is not a reload-needed step: write reload-needed -> yes|no")]
    [TestCase("reload -> loaded", "demo/steps.hcr:2: 'reload -> loaded' is not a reload step: write reload -> loaded MODULE... [unloaded MODULE...]")]
    [TestCase("reload -> fine", "demo/steps.hcr:2: 'reload -> fine' is not a reload step: write reload [-> unchanged | -> loaded MODULE... [unloaded MODULE...] | -> error MODULE[: TEXT]]")]
    [TestCase("call a p -> error b: text", "demo/steps.hcr:2: 'call a p -> error b: text' is not a call step: write ... -> error: TEXT (only start and reload name a module)")]
    [TestCase("reload -> error b:", "demo/steps.hcr:2: 'reload -> error b:' is not a reload step: write ... -> error: TEXT (the text after ':' is not empty)")]
    public void AMalformedLineIsAnErrorNamingFileAndLine(string line, string message)
    {
        var error = Assert.Throws<StepsFileException>(() => StepsParser.Parse($"use a v1\n{line}\n", File))!;

        Assert.That(error.Message, Is.EqualTo(message));
        Assert.That((error.File, error.Line), Is.EqualTo((File, 2)));
    }

    // Issue 12, names that escape: 'use /abs/path v1' wrote and overwrote files outside the work folder. A name is an
    // identifier: ASCII letters, digits and '_', not starting with a digit (C's rule, which procs and globals follow).
    [TestCase("use /abs/path v1", "/abs/path")]
    [TestCase("use ../x v1", "../x")]
    [TestCase("use a.b v1", "a.b")]
    [TestCase("start a b/c", "b/c")]
    [TestCase("call a ../p", "../p")]
    [TestCase("global a 1x -> 1", "1x")]
    [TestCase("modules -> a -b", "-b")]
    [TestCase("bad-call a p\u00e9", "p\u00e9")]
    public void ANameThatIsNotAnIdentifierIsAnErrorNamingFileAndLine(string line, string name)
    {
        var error = Assert.Throws<StepsFileException>(() => StepsParser.Parse($"use a v1\n{line}\n", File))!;

        Assert.That(error.Message, Is.EqualTo(
            $"demo/steps.hcr:2: '{name}' is not a name: module, proc and global names are identifiers (ASCII letters, digits and '_', not starting with a digit)"));
    }

    [Test]
    public void IdentifiersAreNames()
    {
        var steps = StepsParser.Parse("use _a9 v1\nstart _a9 B_2\n", File);

        Assert.That(((StartStep)steps[1]).Imports, Is.EqualTo(new[] { "_a9", "B_2" }));
    }

    [Test]
    public void AnOutputLineBeforeAnyStepIsAnError()
    {
        var error = Assert.Throws<StepsFileException>(() => StepsParser.Parse("# intro\n> hello\nstart a\n", File))!;

        Assert.That(error.Message, Is.EqualTo("demo/steps.hcr:2: an output line ('> text') must follow a step"));
    }

    [Test]
    public void TheExpectedTranscriptIsTheStepsAsWrittenWithSingleSpaces()
    {
        var steps = StepsParser.Parse("use a v1\nstart   a\n> hi\n# done\ncall a f ->  1\n", File);
        var scenario = new Scenario("demo", "/nowhere", "/nowhere/steps.hcr", steps);

        Assert.That(scenario.ExpectedTranscript, Is.EqualTo(new[] { "use a v1", "start a", "> hi", "call a f -> 1" }));
    }
}
