using System.Net.Http.Json;

namespace SafeNotify.Crm.EndToEnd.Tests;

public sealed partial class AttackMatrixTests
{
    [Fact]
    public async Task A_victims_tenant_id_in_the_body_or_query_of_every_tenant_route_changes_nothing_of_the_victims_and_what_is_created_is_the_attackers()
    {
        var operations = (await Api.OperationsAsync()).Where(o => o.Path.StartsWith("/api/", StringComparison.Ordinal) && !o.IsAdmin).ToList();
        var victim = await Api.ObjectsOfNewTenantAsync("Clínica Suplantada");
        var attacker = await Api.ObjectsOfNewTenantAsync("Consultorio Suplantador");
        string[] victimsIds = [victim.Tenant.Id, victim.Tenant.NumberId, victim.Tenant.AgentId, victim.Tenant.Phone, victim.LeadId, victim.ConversationId];
        var before = await Api.SnapshotAsync(operations, victim);

        var findings = new Findings();
        // Valid calls with the attacker's key on the attacker's own objects, naming the victim's tenant wherever a client
        // could: the deletes last, since they remove objects the other routes address.
        foreach (var operation in operations.OrderBy(o => o.Method == HttpMethod.Delete))
        {
            var path = $"{attacker.Fill(operation.Path)}?tenantId={Uri.EscapeDataString(victim.Tenant.Id)}";
            var body = operation.HasBody ? PublicApi.BodyFor(operation) : null;
            if (body is not null)
            {
                body["tenantId"] = victim.Tenant.Id;
            }

            var answer = await Api.SendAsBusinessAsync(operation, path, attacker, () => body is null ? null : JsonContent.Create(body));
            // Acted on as the attacker's own: a 404 would mean the attacker's object was looked for in the victim's tenant.
            findings.Check(answer.Status is >= 200 and < 300 or 409, () => $"{operation} naming the victim's tenant: expected 2xx (or 409), got {answer}");
            findings.Check(!victimsIds.Any(answer.Body.Contains), () => $"{operation} naming the victim's tenant answered with the victim's data: {answer}");
            if (answer.Status == 201 && answer.Location is { } created && !operation.IsOwnersOnly) // a key is never read back: it is shown once
            {
                var asAttacker = await Api.SendAsync(HttpMethod.Get, created, attacker.Tenant.ApiKey, () => null);
                var asVictim = await Api.SendAsync(HttpMethod.Get, created, victim.Tenant.ApiKey, () => null);
                findings.Check(asAttacker.Status == 200 && asVictim.Status == 404,
                    () => $"{operation} created {created}, which the attacker reads with {asAttacker.Status} and the victim with {asVictim.Status}");
            }
        }

        findings.Unchanged(before, await Api.SnapshotAsync(operations, victim));
        findings.AssertNone(minimumChecks: 60);
    }
}
