using System.Text.Encodings.Web;
using System.Text.Json;

namespace HcrLab.Lab.Cli;

/// <summary>A JSON object on one line of standard output (<c>encode</c>, <c>decode</c>; docs/json.md).</summary>
internal static class JsonLine
{
    /// <summary>
    /// Quotes and other HTML-sensitive characters as themselves (<c>'</c>, not <c>\u0027</c>): the line goes to a terminal
    /// or a JSON reader, never into a web page.
    /// </summary>
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Of(object value) => JsonSerializer.Serialize(value, Options);
}
