using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SafeNotify.Crm.TestSupport;
using Xunit.Abstractions;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Every route the services' OpenAPI documents describe, every path and query parameter and every body field, sent
/// hostile values through the gateway (<see cref="HostileValues"/>), among them a victim tenant's ids: no answer may be
/// a 5xx, no answer to a tenant may carry the ids of a sentinel tenant (whose ids are never sent, so that any of them in
/// an answer came from a read across tenants), and the victim's and the sentinel's objects read the same afterwards. A new route or field is
/// covered without editing this suite. The cases are built in a fixed order from a fixed seed; a failure prints each
/// request that failed, ready to replay with curl.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FuzzingTests(SystemFixture system, ITestOutputHelper output)
{
    private const int Seed = 7349;
    private const int Attackers = 3;

    /// <summary>Requests in flight at once: enough to keep the gateway busy, few enough to stay in the tenants' rate limits.</summary>
    private const int Concurrency = 6;

    private PublicApi Api { get; } = new(system);

    [Fact]
    public async Task No_hostile_value_in_any_route_parameter_or_field_makes_a_5xx_leaks_another_tenant_or_changes_a_sentinel()
    {
        var operations = await Api.OperationsAsync();
        var api = operations.Where(o => o.Path.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        var victim = await Api.ObjectsOfNewTenantAsync("Clínica Víctima del Fuzzer");
        var sentinel = await Api.ObjectsOfNewTenantAsync("Clínica Centinela");
        var attackers = new List<PublicApi.TenantObjects>();
        for (var i = 0; i < Attackers; i++)
        {
            // The largest plan, so that a valid create gets past the plan's limits to the code behind them.
            attackers.Add(await Api.ObjectsOfNewTenantAsync($"Fuzzer {i + 1}", plan: "enterprise"));
        }

        // Operators' routes act on a tenant of their own: a fuzzed plan change must not cut the attackers' allowances.
        var operated = await Api.ObjectsOfNewTenantAsync("Inquilino Operado");
        var before = await ReadBothAsync();

        async Task<Dictionary<string, string>> ReadBothAsync() =>
            (await Api.SnapshotAsync(api, victim)).Select(read => KeyValuePair.Create($"the victim's {read.Key}", read.Value))
            .Concat((await Api.SnapshotAsync(api, sentinel)).Select(read => KeyValuePair.Create($"the sentinel's {read.Key}", read.Value)))
            .ToDictionary();

        var random = new Random(Seed);
        var cases = api.SelectMany(o => CasesFor(o, o.IsAdmin ? [] : victim.Ids, random))
            .Concat(operations.Where(o => o.Path.StartsWith("/webhooks/", StringComparison.Ordinal)).SelectMany(WebhookCases))
            .ToList();
        // Deletes go last: they remove the objects the other cases address.
        var ordered = cases.Where(c => c.Operation.Method != HttpMethod.Delete).Concat(cases.Where(c => c.Operation.Method == HttpMethod.Delete)).ToList();
        Assert.True(ordered.Count > 3000, $"only {ordered.Count} cases");

        var findings = new ConcurrentQueue<Finding>();
        var statuses = new ConcurrentDictionary<(string Operation, int Status), int>();
        var checks = 0;
        foreach (var phase in ordered.GroupBy(c => c.Operation.Method == HttpMethod.Delete))
        {
            await Parallel.ForEachAsync(phase.Select((c, i) => (Case: c, Index: i)), new ParallelOptions { MaxDegreeOfParallelism = Concurrency },
                async (item, _) =>
                {
                    var (fuzz, index) = item;
                    var target = fuzz.Operation.IsAdmin ? operated : attackers[index % Attackers];
                    var key = fuzz.Operation.IsAdmin ? SystemFixture.OperatorKey : target.Tenant.ApiKey;
                    var request = fuzz.Build(target);
                    // The owners' routes are reached as the console reaches them, for the business's owner, straight at Routing.
                    var owners = fuzz.Operation.IsOwnersOnly;
                    var answer = await Api.SendAsync(request.Method, request.Path, fuzz.Signed || owners ? null : key,
                        () => request.Body is null ? null : new ByteArrayContent(request.Body) { Headers = { ContentType = MediaTypeHeaderValue.Parse(request.ContentType!) } },
                        adjust: fuzz.Signed ? r => r.Headers.Add("X-Twilio-Signature", Sign(request)) : owners ? Api.AsOwnerOf(target) : null,
                        client: owners ? Api.Routing : null);
                    Interlocked.Increment(ref checks);
                    statuses.AddOrUpdate((fuzz.Operation.Key, answer.Status), 1, (_, n) => n + 1);
                    foreach (var failure in Judge(fuzz, request, answer, sentinel, operatorCall: fuzz.Operation.IsAdmin))
                    {
                        findings.Enqueue(new Finding($"{fuzz.Operation} {fuzz.Target}", failure.Kind,
                            $"{fuzz.Operation} with {fuzz.Target} = {fuzz.Value}: {failure.Detail}\n    replay: {request.Replay(system.Gateway.BaseAddress!, fuzz.Signed ? null : key)}"));
                    }
                });
        }

        // What the routes answered, to see that the cases reach past validation as well as into it.
        foreach (var operation in statuses.GroupBy(s => s.Key.Operation).OrderBy(g => g.Key))
        {
            output.WriteLine($"{operation.Key}: {string.Join(", ", operation.OrderBy(s => s.Key.Status).Select(s => $"{s.Key.Status} × {s.Value}"))}");
        }

        var after = await ReadBothAsync();
        foreach (var (read, was) in before)
        {
            if (after.GetValueOrDefault(read) != was)
            {
                findings.Enqueue(new Finding(read, "changed", $"{read} changed:\n  before {was}\n  after  {after.GetValueOrDefault(read)}"));
            }
        }

        // A line per place and kind of failure, then one request of each to replay.
        var groups = findings.GroupBy(f => (f.Where, f.Kind)).OrderBy(g => g.Key.Kind).ThenBy(g => g.Key.Where).ToList();
        Assert.True(findings.IsEmpty, $"{findings.Count} of {checks} requests failed, in {groups.Count} places:\n"
            + string.Join("\n", groups.Select(g => $"  {g.Count(),4} × {g.Key.Kind}: {g.Key.Where}")) + "\n\n"
            + string.Join("\n", groups.Take(60).Select(g => g.First().Detail)));
    }

    /// <summary>What is wrong with an answer: a 5xx, an error that is not a problem, another tenant's ids in it.</summary>
    private static IEnumerable<(string Kind, string Detail)> Judge(FuzzCase fuzz, Request request, PublicApi.Answer answer, PublicApi.TenantObjects sentinel, bool operatorCall)
    {
        if (answer.Status >= 500)
        {
            yield return ($"{answer.Status}", $"answered {answer}");
        }

        // A NUL in the path is refused by the gateway's web server before any code of ours runs: a bare 400 is all it says.
        var refusedByServer = answer is { Status: 400, MediaType: null, Body: "" } && request.Path.Contains("%00", StringComparison.Ordinal);
        if (answer.Status is 400 or 404 or 409 && !fuzz.Signed && answer.MediaType != "application/problem+json" && !refusedByServer)
        {
            yield return ($"{answer.Status} without a problem body", $"answered {answer.Status} without a problem body: {answer}");
        }

        if (!operatorCall)
        {
            foreach (var id in sentinel.Ids.Where(id => answer.Body.Contains(id, StringComparison.Ordinal)))
            {
                yield return ("a leak", $"answered with the sentinel tenant's {id}: {answer}");
            }
        }
    }

    /// <summary>
    /// The cases of one operation. <paramref name="otherTenantIds"/> are the victim's ids, tried where a tenant's call could
    /// name them (an operator's call may name any tenant's, so none are tried there).
    /// </summary>
    private static IEnumerable<FuzzCase> CasesFor(PublicApi.Operation operation, IReadOnlyList<string> otherTenantIds, Random random)
    {
        // A fresh valid body for each request (a new phone number each time), so that one case's create does not
        // make the next one a duplicate that stops before the code under test.
        JsonObject? Valid() => operation.HasBody ? PublicApi.BodyFor(operation) : null;
        var valid = Valid();
        var query = operation.Parameters.Where(p => p.In == "query").ToList();

        foreach (var parameter in operation.Parameters.Where(p => p.In == "path"))
        {
            foreach (var value in HostileValues.ForPath(otherTenantIds))
            {
                yield return new FuzzCase(operation, $"{{{parameter.Name}}}", value.Name,
                    target => Request.Json(operation, target.Fill(operation.Path, name => name == parameter.Name ? value.Encoded : null), Valid()));
            }
        }

        foreach (var parameter in query)
        {
            foreach (var value in HostileValues.ForQuery(parameter.Shape, parameter.Name, otherTenantIds))
            {
                yield return new FuzzCase(operation, $"?{parameter.Name}", value.Name,
                    target => Request.Json(operation, $"{target.Fill(operation.Path)}?{parameter.Name}={value.Encoded}", Valid()));
            }
        }

        if (query.Any(p => p.Name == "page") && query.Any(p => p.Name == "pageSize"))
        {
            foreach (var (page, size) in new[] { ("2147483647", "2147483647"), ("2147483647", "200"), ("0", "0"), ("-1", "-1"), ("10737419", "200") })
            {
                yield return new FuzzCase(operation, "?page&pageSize", $"{page} and {size}",
                    target => Request.Json(operation, $"{target.Fill(operation.Path)}?page={page}&pageSize={size}", Valid()));
            }
        }

        if (valid is null)
        {
            yield break;
        }

        // Every field the document names, and any the valid body adds (a field the document leaves out is still read).
        var fields = operation.BodyFields.Select(f => (f.Name, f.Shape))
            .Concat(valid.Select(p => p.Key).Where(name => operation.BodyFields.All(f => f.Name != name))
                .Select(name => (Name: name, Shape: new PublicApi.Shape("any", null, [], []))))
            .ToList();
        foreach (var (name, shape) in fields)
        {
            foreach (var value in HostileValues.ForField(shape, name, otherTenantIds, random))
            {
                yield return new FuzzCase(operation, name, value.Name, target => Request.Spliced(operation, target.Fill(operation.Path), Valid()!, name, value.Utf8));
            }
        }

        var firstKey = valid.Select(p => p.Key).FirstOrDefault() ?? "name";
        foreach (var (name, body, contentType) in HostileValues.WholeBodies(valid.ToJsonString(), firstKey, otherTenantIds.FirstOrDefault() ?? "tnt_none"))
        {
            yield return new FuzzCase(operation, "the body", name, target => new Request(operation.Method, target.Fill(operation.Path), body, contentType));
        }
    }

    /// <summary>Twilio's webhooks, signed as Twilio signs them, with a hostile value in one field of an otherwise genuine form.</summary>
    private IEnumerable<FuzzCase> WebhookCases(PublicApi.Operation operation)
    {
        string[] fields = operation.Path.EndsWith("/status", StringComparison.Ordinal)
            ? ["MessageSid", "MessageStatus", "ErrorCode", "AccountSid", "To", "From"]
            : ["Body", "ProfileName", "From", "To", "WaId", "NumMedia", "MediaUrl0", "MediaContentType0", "MessageSid", "Latitude", "Longitude", "ButtonPayload"];
        string[] values =
        [
            "a\0b", "\0", "\u0001\u001f\u007f", "\u202Eevil", $"e{new string('\u0301', 50)}", "😀👍🏽🇨🇴", "Ñandú", new string('a', 10_000), "",
            "'; DROP TABLE ingress.inbound_messages; --", "%_\\", "../../etc/passwd", "-1", "0", "99999999999999999999", "NaN", "1e400",
            "whatsapp:", "whatsapp:+", "whatsapp:abc", "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "http://localhost:5432/",
            "delivered", "read", "UNKNOWN",
        ];
        foreach (var field in fields)
        {
            foreach (var value in values)
            {
                yield return new FuzzCase(operation, field, Describe(value), target =>
                {
                    var form = TwilioSigner.InboundForm(system.Twilio.AccountSid, $"+57301{Random.Shared.Next(1_000_000, 9_999_999)}", target.Tenant.Phone, "Hola");
                    form["MessageStatus"] = "delivered";
                    if (field.StartsWith("Media", StringComparison.Ordinal))
                    {
                        form["NumMedia"] = "1";
                        form["MediaUrl0"] = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0";
                        form["MediaContentType0"] = "image/jpeg";
                    }

                    form[field] = value;
                    return new Request(operation.Method, operation.Path, new FormUrlEncodedContent(form).ReadAsByteArrayAsync().Result,
                        "application/x-www-form-urlencoded", form);
                }, Signed: true);
            }
        }
    }

    private string Sign(Request request) =>
        TwilioSigner.Sign(system.Twilio.AuthToken, system.Gateway.BaseAddress!.ToString().TrimEnd('/') + request.Path, request.Form!);

    private static string Describe(string value) =>
        value.Length > 40 ? $"{value.Length:N0} × '{value[0]}'" : System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>One request to send: <paramref name="Target"/> (a parameter, a field, the body) set to <paramref name="Value"/>.</summary>
    private sealed record FuzzCase(PublicApi.Operation Operation, string Target, string Value, Func<PublicApi.TenantObjects, Request> Build, bool Signed = false);

    private sealed record Finding(string Where, string Kind, string Detail);

    private sealed record Request(HttpMethod Method, string Path, byte[]? Body, string? ContentType, IReadOnlyDictionary<string, string>? Form = null)
    {
        public static Request Json(PublicApi.Operation operation, string path, JsonObject? body) =>
            new(operation.Method, path, body is null ? null : Encoding.UTF8.GetBytes(body.ToJsonString()), body is null ? null : "application/json");

        /// <summary>The valid body with <paramref name="field"/> set to raw bytes no serializer would write.</summary>
        public static Request Spliced(PublicApi.Operation operation, string path, JsonObject valid, string field, byte[] value)
        {
            const string placeholder = "\u0001hostile\u0001";
            var body = valid.DeepClone().AsObject();
            body[field] = placeholder;
            var text = body.ToJsonString();
            var marker = "\"\\u0001hostile\\u0001\"";
            var at = text.IndexOf(marker, StringComparison.Ordinal);
            byte[] bytes = [.. Encoding.UTF8.GetBytes(text[..at]), .. value, .. Encoding.UTF8.GetBytes(text[(at + marker.Length)..])];
            return new Request(operation.Method, path, bytes, "application/json");
        }

        /// <summary>The same request as a curl command (a long body is described, not printed).</summary>
        public string Replay(Uri gateway, string? key)
        {
            var command = new StringBuilder($"curl -X {Method} '{new Uri(gateway, Path)}'");
            if (key is not null) command.Append($" -H 'Authorization: Bearer {key}'");
            if (Form is not null) command.Append(" -H 'X-Twilio-Signature: <signed>'");
            if (Body is not null)
            {
                command.Append($" -H 'Content-Type: {ContentType}'");
                command.Append(Body.Length <= 600
                    ? $" --data-binary $'{string.Concat(Body.Select(b => b is >= 0x20 and < 0x7F and not (byte)'\'' and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}"))}'"
                    : $" --data-binary <{Body.Length:N0} bytes: {Encoding.UTF8.GetString(Body[..200])}…>");
            }

            return command.ToString();
        }
    }
}
