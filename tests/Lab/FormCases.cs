using HcrLab.Encoders;

namespace HcrLab.Tests.Lab;

/// <summary>Test case sources over the encoders' forms, shared by the fixtures that probe every form.</summary>
internal static class FormCases
{
    /// <summary>(instruction set, form name) for every relative form of every CPU.</summary>
    public static IEnumerable<TestCaseData> Relative() =>
        from encoder in JumpEncoders.All
        from form in encoder.Forms
        where form.IsRelative
        select new TestCaseData(encoder.Facts.Isa, form.Name).SetName($"{encoder.Facts.Isa.ShortName()} {form.Name}");
}
