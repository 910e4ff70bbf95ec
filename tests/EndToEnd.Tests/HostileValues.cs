using System.Text;
using System.Text.Json;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// What the fuzzing suite sends in place of a valid value, by the kind of value the route expects. Values are raw JSON
/// (for bodies) or already URL-encoded text (for query strings and paths), so that they can be what no serializer would
/// write: a lone surrogate, bytes that are not UTF-8, a NaN, a repeated key. Each has a name for the report.
/// </summary>
public static class HostileValues
{
    public sealed record Json(string Name, byte[] Utf8)
    {
        public static Json Of(string name, string json) => new(name, Encoding.UTF8.GetBytes(json));

        public override string ToString() => Name;
    }

    public sealed record Text(string Name, string Encoded)
    {
        public override string ToString() => Name;
    }

    /// <summary>Values for a JSON body field of <paramref name="shape"/>: hostile text of every sort, then wrong types.</summary>
    public static IEnumerable<Json> ForField(PublicApi.Shape shape, string field, IReadOnlyList<string> otherTenantIds, Random random)
    {
        var values = shape.Kind switch
        {
            "integer" or "number" => Numbers(),
            "boolean" => Booleans(),
            "array" => Arrays(otherTenantIds),
            "object" => Objects(),
            "any" => Objects().Concat(Strings(otherTenantIds, random)),
            _ when shape.Enum.Count > 0 || IsEnumName(field) => Enums().Concat(Strings(otherTenantIds, random)),
            _ when shape.Format is "date" or "date-time" || IsDateName(field) => Dates().Concat(Strings(otherTenantIds, random)),
            _ => Strings(otherTenantIds, random),
        };
        return values.Concat(WrongTypes(shape.Kind));
    }

    /// <summary>Values for a query parameter, URL-encoded as a client would put them on the wire (or would not).</summary>
    public static IEnumerable<Text> ForQuery(PublicApi.Shape shape, string name, IReadOnlyList<string> otherTenantIds)
    {
        IEnumerable<Text> typed = shape.Kind switch
        {
            "integer" or "number" =>
            [
                new("-1", "-1"), new("0", "0"), new("int.MaxValue", "2147483647"), new("int.MaxValue + 1", "2147483648"),
                new("a 20-digit number", "99999999999999999999"), new("a fraction", "1.5"), new("NaN", "NaN"), new("an exponent", "1e3"),
                new("a word", "diez"),
            ],
            "boolean" => [new("yes", "yes"), new("2", "2"), new("a word", "verdadero")],
            _ when IsDateName(name) =>
            [
                new("year 1", "0001-01-01"), new("year 9999", "9999-12-31"), new("year 10000", "10000-01-01"), new("February 30", "2026-02-30"),
                new("month 13", "2026-13-01"), new("an hour 25", "2026-12-06T25:00:00Z"), new("a negative number", "-1"),
                new("a range of 10,000 years", "0001-01-01&to=9999-12-31"),
            ],
            _ => [],
        };
        return typed.Concat(QueryText(otherTenantIds)).Append(new Text("the parameter twice", $"a&{name}=b")).Append(new Text("empty", ""));
    }

    /// <summary>Values for a route parameter, URL-encoded into a path segment.</summary>
    public static IEnumerable<Text> ForPath(IReadOnlyList<string> otherTenantIds) =>
    [
        new("an encoded NUL", "%00"), new("a NUL inside", "ab%00cd"), new("an encoded lone surrogate", "%ED%A0%80"), new("a byte that is not UTF-8", "%FF"),
        new("an encoded traversal", "..%2F..%2Fadmin%2Ftenants"), new("dot dot", ".."), new("encoded dots", "%2e%2e"), new("double-encoded dots", "%252e%252e"),
        new("a quote and SQL", "x'%20OR%20'1'%3D'1"), new("a percent", "%25"), new("an underscore", "_"), new("a backslash", "%5C"),
        new("5,000 characters", new string('x', 5000)), new("accents", Uri.EscapeDataString("Ñandú-Pérez")), new("an emoji", Uri.EscapeDataString("😀")),
        new("right-to-left override", "%E2%80%AEevil"), new("-1", "-1"), new("0", "0"), new("int.MaxValue + 1", "2147483648"),
        new("a 20-digit number", "99999999999999999999"), new("a space", "%20"),
        .. otherTenantIds.Select((id, i) => new Text($"another tenant's id #{i + 1}", Uri.EscapeDataString(id))),
    ];

    /// <summary>Bodies that are wrong as a whole, around a <paramref name="valid"/> one (UTF-8 JSON unless the name says otherwise).</summary>
    public static IEnumerable<(string Name, byte[] Body, string ContentType)> WholeBodies(string valid, string firstKey, string otherTenantId)
    {
        const string json = "application/json";
        var inner = valid.Length > 2 ? valid[1..^1] : "";
        var comma = inner.Length > 0 ? "," : "";
        var firstValue = JsonDocument.Parse(valid).RootElement.EnumerateObject().FirstOrDefault().Value;
        var repeated = firstValue.ValueKind == JsonValueKind.Undefined ? "1" : firstValue.GetRawText();
        yield return ("the first key twice", Encoding.UTF8.GetBytes($"{{{inner}{comma}\"{firstKey}\":{repeated}}}"), json);
        var capitalised = firstKey.Length > 0 ? char.ToUpperInvariant(firstKey[0]) + firstKey[1..] : "X";
        yield return ("the first key twice, capitalised the second time", Encoding.UTF8.GetBytes($"{{{inner}{comma}\"{capitalised}\":{repeated}}}"), json);
        yield return ("a NUL key", Encoding.UTF8.GetBytes($"{{\"\\u0000\":1{comma}{inner}}}"), json);
        yield return ("a lone surrogate key", Encoding.UTF8.GetBytes($"{{\"\\ud800\":1{comma}{inner}}}"), json);
        yield return ("another tenant's id as tenantId", Encoding.UTF8.GetBytes($"{{{inner}{comma}\"tenantId\":{JsonSerializer.Serialize(otherTenantId)}}}"), json);
        yield return ("an empty object", "{}"u8.ToArray(), json);
        yield return ("null", "null"u8.ToArray(), json);
        yield return ("an array", "[]"u8.ToArray(), json);
        yield return ("a number", "0"u8.ToArray(), json);
        yield return ("truncated JSON", Encoding.UTF8.GetBytes(valid[..^1]), json);
        yield return ("10,000 nested arrays", Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000)), json);
        yield return ("10,000 extra keys", Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"\"k{i}\":{i}")) + comma + inner + "}"), json);
        yield return ("a byte-order mark first", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(valid)], json);
        yield return ("UTF-16", Encoding.Unicode.GetBytes(valid), "application/json; charset=utf-16");
        yield return ("a charset that is not UTF-8", Encoding.Latin1.GetBytes(valid.Replace("a", "á")), "application/json; charset=iso-8859-1");
        yield return ("bytes that are not UTF-8 in a string", [.. Encoding.UTF8.GetBytes("{\"name\":\""), 0xFF, 0xFE, 0xC0, 0xAF, .. "\"}"u8.ToArray()], json);
        yield return ("2 MB of text in a field", Encoding.UTF8.GetBytes($"{{{inner}{comma}\"{firstKey}x\":\"{new string('ñ', 1024 * 1024)}\"}}"), json);
        yield return ("JSON sent as text/plain", Encoding.UTF8.GetBytes(valid), "text/plain");
    }

    private static IEnumerable<Json> Strings(IReadOnlyList<string> otherTenantIds, Random random)
    {
        yield return Json.Of("a NUL inside", "\"a\\u0000b\"");
        yield return Json.Of("only a NUL", "\"\\u0000\"");
        yield return Json.Of("a lone high surrogate", "\"a\\ud800b\"");
        yield return Json.Of("a lone low surrogate", "\"\\udc00\"");
        yield return Json.Of("a reversed surrogate pair", "\"\\udc00\\ud800\"");
        yield return new Json("bytes that are not UTF-8", [(byte)'"', 0xED, 0xA0, 0x80, 0xFF, (byte)'"']);
        yield return Json.Of("right-to-left override", "\"\u202Eevil\u202C\"");
        yield return Json.Of("50 combining marks", $"\"e{new string('\u0301', 50)}\"");
        yield return Json.Of("zero-width characters", "\"\u200B\u200D\uFEFF\"");
        yield return Json.Of("emoji and a flag", "\"😀👍🏽🇨🇴\"");
        yield return Json.Of("accents", "\"Ñandú Pérez Güiza\"");
        yield return Json.Of("control characters", "\"\\u0001\\u001f\\u007f\"");
        yield return Json.Of("100 KB", $"\"{new string('a', 100 * 1024)}\"");
        yield return Json.Of("SQL", "\"'; DROP TABLE lead.customer_leads; --\"");
        yield return Json.Of("a quote", "\"' OR '1'='1\"");
        yield return Json.Of("LIKE wildcards", "\"%_\\\\%\"");
        yield return Json.Of("a traversal", "\"../../../../etc/passwd\"");
        yield return Json.Of("markup", "\"<script>alert(1)</script>\"");
        yield return Json.Of("format placeholders", "\"{0}{1}%s%n%x\"");
        yield return Json.Of("an empty string", "\"\"");
        yield return Json.Of("only spaces", "\"   \"");
        yield return Json.Of("an internal URL", "\"http://169.254.169.254/latest/meta-data/\"");
        for (var i = 0; i < otherTenantIds.Count; i++)
        {
            yield return Json.Of($"another tenant's id #{i + 1}", JsonSerializer.Serialize(otherTenantIds[i]));
        }

        for (var i = 0; i < 2; i++)
        {
            yield return Json.Of($"random Unicode #{i + 1}", JsonSerializer.Serialize(RandomText(random, 64)));
        }
    }

    private static IEnumerable<Text> QueryText(IReadOnlyList<string> otherTenantIds)
    {
        yield return new("an encoded NUL", "%00");
        yield return new("a NUL inside", "ab%00cd");
        yield return new("an encoded lone surrogate", "%ED%A0%80");
        yield return new("a byte that is not UTF-8", "%FF%FE");
        yield return new("a LIKE wildcard", "%25");
        yield return new("an underscore", "_");
        yield return new("a backslash", "%5C");
        yield return new("SQL", Uri.EscapeDataString("'; DROP TABLE lead.customer_leads; --"));
        yield return new("accents", Uri.EscapeDataString("Ñandú Pérez"));
        yield return new("right-to-left override", "%E2%80%AEevil");
        yield return new("5,000 characters", new string('a', 5000));
        yield return new("10,000 characters", new string('a', 10_000));
        yield return new("an unencoded ampersand and equals", "a&b=c");
        for (var i = 0; i < otherTenantIds.Count; i++)
        {
            yield return new($"another tenant's id #{i + 1}", Uri.EscapeDataString(otherTenantIds[i]));
        }
    }

    private static IEnumerable<Json> Numbers() =>
    [
        Json.Of("0", "0"), Json.Of("-1", "-1"), Json.Of("int.MaxValue", "2147483647"), Json.Of("int.MaxValue + 1", "2147483648"),
        Json.Of("int.MinValue - 1", "-2147483649"), Json.Of("long.MaxValue + 1", "9223372036854775808"), Json.Of("1e308", "1e308"),
        Json.Of("-1e308", "-1e308"), Json.Of("1e400", "1e400"), Json.Of("a fraction", "0.5"), Json.Of("negative zero", "-0.0"),
        Json.Of("30 digits", "123456789012345678901234567890"), Json.Of("29 decimals", "0.12345678901234567890123456789"),
        Json.Of("NaN as a string", "\"NaN\""), Json.Of("Infinity as a string", "\"Infinity\""), Json.Of("a number as a string", "\"12\""),
        Json.Of("an exponent as a string", "\"1e3\""), Json.Of("a bare NaN", "NaN"),
    ];

    private static IEnumerable<Json> Booleans() =>
        [Json.Of("true as a string", "\"true\""), Json.Of("yes", "\"yes\""), Json.Of("1", "1"), Json.Of("0", "0"), Json.Of("an empty string", "\"\"")];

    private static IEnumerable<Json> Enums() =>
    [
        Json.Of("an unknown value", "\"UNKNOWN\""), Json.Of("lower case", "\"new\""), Json.Of("a leading space", "\" NEW\""),
        Json.Of("a number as a string", "\"99\""), Json.Of("a number", "99"), Json.Of("-1", "-1"), Json.Of("0", "0"),
    ];

    private static IEnumerable<Json> Dates() =>
    [
        Json.Of("year 1", "\"0001-01-01T00:00:00Z\""), Json.Of("year 9999", "\"9999-12-31T23:59:59Z\""), Json.Of("year 10000", "\"10000-01-01T00:00:00Z\""),
        Json.Of("February 30", "\"2026-02-30\""), Json.Of("an hour 25", "\"2026-12-06T25:61:61Z\""), Json.Of("an offset of 25 hours", "\"2026-12-06T00:00:00+25:00\""),
        Json.Of("a negative year", "\"-0001-01-01\""), Json.Of("a word", "\"mañana\""), Json.Of("seconds since 1970", "1733443200"),
    ];

    private static IEnumerable<Json> Arrays(IReadOnlyList<string> otherTenantIds) =>
    [
        .. otherTenantIds.Take(1).Select(id => Json.Of("another tenant's id as an item", $"[{JsonSerializer.Serialize(id)}]")),
        Json.Of("an empty array", "[]"), Json.Of("a null item", "[null]"), Json.Of("a NUL item", "[\"\\u0000\"]"), Json.Of("a lone surrogate item", "[\"\\ud800\"]"),
        Json.Of("an empty item", "[\"\"]"), Json.Of("10,000 items", "[" + string.Join(",", Enumerable.Repeat("\"a\"", 10_000)) + "]"),
        Json.Of("an item of 100 KB", $"[\"{new string('a', 100 * 1024)}\"]"), Json.Of("an array in an array", "[[]]"), Json.Of("an object item", "[{}]"),
        Json.Of("numbers", "[1,2,3]"), Json.Of("500 nested arrays", new string('[', 500) + new string(']', 500)),
        Json.Of("the same item twice", "[\"a\",\"a\"]"), Json.Of("an item differing only by accents", "[\"cita\",\"citá\"]"),
    ];

    private static IEnumerable<Json> Objects() =>
    [
        Json.Of("an empty object", "{}"), Json.Of("a NUL key", "{\"\\u0000\":1}"), Json.Of("a lone surrogate key", "{\"\\ud800\":1}"),
        Json.Of("a repeated key", "{\"a\":1,\"a\":2}"), Json.Of("a NUL value", "{\"a\":\"\\u0000\"}"), Json.Of("a lone surrogate value", "{\"a\":\"\\udfff\"}"),
        Json.Of("200 nested objects", string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200)),
        Json.Of("10,000 keys", "{" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"\"k{i}\":{i}")) + "}"),
        Json.Of("hours out of range", "{\"monday\":[{\"start\":\"25:00\",\"end\":\"-1\"}],\"closedDates\":[\"2026-02-30\"]}"),
        Json.Of("hours of the wrong type", "{\"monday\":\"08:00-18:00\",\"tuesday\":[1,2]}"),
        Json.Of("a prototype key", "{\"__proto__\":{\"admin\":true}}"),
    ];

    private static IEnumerable<Json> WrongTypes(string kind)
    {
        if (kind != "string") yield return Json.Of("a string", "\"texto\"");
        if (kind is not ("integer" or "number")) yield return Json.Of("a number", "12345");
        if (kind != "boolean") yield return Json.Of("a boolean", "true");
        if (kind != "array") yield return Json.Of("an array", "[\"a\"]");
        if (kind is not ("object" or "any")) yield return Json.Of("an object", "{\"a\":\"b\"}");
        yield return Json.Of("null", "null");
    }

    private static bool IsEnumName(string field) => field is "status" or "priority" or "leadStatus" or "crmPlan" or "period" or "state" or "grade" or "sort";

    private static bool IsDateName(string field) =>
        field.EndsWith("At", StringComparison.Ordinal) || field is "from" or "to" or "nextFollowUp" or "lastPurchase" or "lastActivity";

    /// <summary>Scalar values from every plane (never a surrogate on its own), from the suite's seeded generator.</summary>
    private static string RandomText(Random random, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            var value = random.Next(3) switch { 0 => random.Next(0x20, 0x7F), 1 => random.Next(0xA0, 0xD800), _ => random.Next(0x10000, 0x10FFFF) };
            if (Rune.IsValid(value))
            {
                text.Append(char.ConvertFromUtf32(value));
            }
        }

        return text.ToString();
    }
}
