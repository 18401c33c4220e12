using HcrLab.Encoders;
using NUnit.Framework;

namespace HcrLab.Tests.Vectors;

/// <summary>
/// Runs every line of tests/vectors/*.txt through the encoders. The expected forms, bytes and refusals in those files were
/// derived by hand from the architecture manuals, never from the code under test; each line's comment shows how.
/// </summary>
[TestFixture]
[Category("Vectors")]
public sealed class GoldenVectorTests
{
    private static readonly string[] Files = ["i386.txt", "amd64.txt", "arm.txt", "thumb.txt", "arm64.txt"];

    public static IEnumerable<TestCaseData> Cases() =>
        Files.SelectMany(file => VectorFile.Read(Path.Combine(VectorFile.Directory, file)))
            .Select(vector => new TestCaseData(vector).SetName($"{vector.Where} {vector.Text}"));

    [Test]
    public void EveryFileHasVectors()
    {
        foreach (string file in Files)
        {
            Assert.That(VectorFile.Read(Path.Combine(VectorFile.Directory, file)).Count(), Is.GreaterThan(0), file);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Vector(VectorCase vector)
    {
        Assert.That(vector.ParseError, Is.Null, $"{vector.Where}: the line does not parse");
        var encoder = JumpEncoders.For(vector.Isa);
        switch (vector.Kind)
        {
            case VectorKind.Encode:
                CheckEncode(encoder, vector);
                break;
            case VectorKind.Refuse:
                CheckRefusal(encoder, vector);
                break;
            default:
                CheckRepoint(encoder, vector);
                break;
        }
    }

    private static JumpPlan PlanFirst(IJumpEncoder encoder, VectorCase vector, ulong target) =>
        vector.Form is null
            ? encoder.Plan(vector.Slot, target, vector.Mode)
            : encoder.Plan(encoder.Form(vector.Form), vector.Slot, target, vector.Mode);

    private static void CheckEncode(IJumpEncoder encoder, VectorCase vector)
    {
        var plan = PlanFirst(encoder, vector, vector.Target);
        Assert.That(plan.Form.Name, Is.EqualTo(vector.ExpectedForm), $"{vector.Where}: form");

        var encoded = new byte[plan.Size];
        encoder.Encode(plan, encoded);
        Assert.That(Convert.ToHexStringLower(encoded), Is.EqualTo(vector.ExpectedHex), $"{vector.Where}: bytes");

        // A first write changes the whole encoding, and Write of it is the same as Encode.
        Assert.That(plan.Changed, Is.EqualTo(new ByteRange(0, plan.Size)), $"{vector.Where}: a first write changes every byte");
        var written = new byte[plan.Size];
        encoder.Write(plan, written);
        Assert.That(Convert.ToHexStringLower(written), Is.EqualTo(vector.ExpectedHex), $"{vector.Where}: Write of a first plan");
    }

    private static void CheckRefusal(IJumpEncoder encoder, VectorCase vector)
    {
        if (vector.ExpectedError == VectorFile.SlotTooSmall)
        {
            var plan = PlanFirst(encoder, vector, vector.Target);
            var tooSmall = new byte[vector.Buffer!.Value];
            var refusal = Assert.Throws<SlotTooSmallException>(() => encoder.Encode(plan, tooSmall), $"{vector.Where}: Encode");
            Assert.That(refusal.Available, Is.EqualTo(vector.Buffer.Value), $"{vector.Where}: available bytes");
            Assert.Throws<SlotTooSmallException>(() => encoder.Write(plan, tooSmall), $"{vector.Where}: Write");
            return;
        }

        var expected = Enum.Parse<UnencodableReason>(vector.ExpectedError);
        var error = Assert.Throws<UnencodableJumpException>(() => PlanFirst(encoder, vector, vector.Target), $"{vector.Where}: expected a refusal");
        Assert.That(error.Reason, Is.EqualTo(expected), $"{vector.Where}: reason ({error.Message})");
    }

    private static void CheckRepoint(IJumpEncoder encoder, VectorCase vector)
    {
        var first = encoder.Plan(vector.Slot, vector.Target, vector.Mode);
        var next = encoder.PlanRepoint(first, vector.NewTarget);
        Assert.That(next.Form.Name, Is.EqualTo(vector.ExpectedForm), $"{vector.Where}: form");

        var encoded = new byte[next.Size];
        encoder.Encode(next, encoded);
        Assert.That(Convert.ToHexStringLower(encoded), Is.EqualTo(vector.ExpectedHex), $"{vector.Where}: bytes");
        Assert.That(next.Changed.ToString(), Is.EqualTo(vector.ExpectedChanged), $"{vector.Where}: changed range");

        // Writing only the changed bytes over the old encoding must give the new one.
        var slot = new byte[Math.Max(first.Size, next.Size)];
        encoder.Encode(first, slot);
        encoder.Write(next, slot);
        Assert.That(Convert.ToHexStringLower(slot.AsSpan(0, next.Size)), Is.EqualTo(vector.ExpectedHex), $"{vector.Where}: Write over the old encoding");

        if (vector.Mode == PatchMode.Data)
        {
            Assert.That(next.Changed.IsWithin(next.Literal), Is.True, $"{vector.Where}: data mode changes only the literal");
            Assert.That(next.ChangesInstructions || next.NeedsCacheMaintenance, Is.False, $"{vector.Where}: data mode needs no instruction maintenance");
        }
    }
}
