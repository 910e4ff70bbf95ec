using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.AppHost.Demo;

internal sealed record DemoTenantKey(string TenantName, string ApiKey, IReadOnlyList<DemoLogin> Logins);

/// <summary>
/// The seed's two cases, created through the public API exactly as an operator and a tenant would:
/// "Caso 1: Clínica Dental" (pro plan, two numbers, DrBot and Urgencias, patient María González) and
/// "Caso 2: Restaurante La Plaza" (basic plan, ChefBot, customer Carlos López). Every step first looks
/// for what it would create, so a re-run (or a run interrupted halfway) completes without duplicates.
/// The tenants' keys are kept in the state folder, readable by the owner only.
/// </summary>
internal static class DemoData
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<IReadOnlyList<DemoTenantKey>> SeedAsync(Uri gateway, string operatorKey, StateFolder state, CancellationToken cancellationToken)
    {
        var keysFile = Path.Combine(state.Root, "demo-keys.json");
        var keys = File.Exists(keysFile)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(keysFile, cancellationToken)) ?? []
            : [];

        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
        var result = new List<DemoTenantKey>();
        foreach (var tenant in Tenants)
        {
            var tenantId = await EnsureTenantAsync(http, operatorKey, tenant, keys, cancellationToken);
            StateFolder.WritePrivate(keysFile, JsonSerializer.Serialize(keys, new JsonSerializerOptions { WriteIndented = true }));
            var tenantKey = keys[tenant.SafeNotifyUserId];

            var agentIds = new Dictionary<string, string>();
            foreach (var agent in tenant.Agents)
            {
                agentIds[agent["name"]!.GetValue<string>()] = await EnsureAsync(http, tenantKey, "/api/agents", "name", agent, cancellationToken);
            }

            foreach (var number in tenant.Numbers(agentIds))
            {
                await EnsureAsync(http, tenantKey, "/api/numbers", "phoneNumber", number, cancellationToken);
            }

            foreach (var lead in tenant.Leads)
            {
                await EnsureAsync(http, tenantKey, "/api/leads", "phone", lead, cancellationToken);
            }

            var logins = await DemoStaff.SeedAsync(http, operatorKey, tenantId, tenant.Name, tenant.SafeNotifyUserId, state, cancellationToken);
            result.Add(new DemoTenantKey(tenant.Name, tenantKey, logins));
        }

        return result;
    }

    private static async Task<string> EnsureTenantAsync(HttpClient http, string operatorKey, DemoTenant tenant,
        Dictionary<string, string> keys, CancellationToken cancellationToken)
    {
        var existing = await SendAsync(http, HttpMethod.Get, $"/api/admin/tenants?safeNotifyUserId={Uri.EscapeDataString(tenant.SafeNotifyUserId)}", operatorKey, null, cancellationToken);
        var found = existing["items"]!.AsArray().FirstOrDefault();
        if (found is not null)
        {
            var id = found["id"]!.GetValue<string>();
            if (!keys.ContainsKey(tenant.SafeNotifyUserId))
            {
                // The tenant survived but its key file did not: issue a new key (the old one stays valid).
                var issued = await SendAsync(http, HttpMethod.Post, $"/api/admin/tenants/{id}/api-keys", operatorKey, new JsonObject(), cancellationToken);
                keys[tenant.SafeNotifyUserId] = issued["apiKey"]!.GetValue<string>();
            }

            return id;
        }

        var created = await SendAsync(http, HttpMethod.Post, "/api/admin/tenants", operatorKey, new JsonObject
        {
            ["safeNotifyUserId"] = tenant.SafeNotifyUserId,
            ["name"] = tenant.Name,
            ["crmPlan"] = tenant.Plan,
            ["crmEnabled"] = true,
            ["timezone"] = "America/Bogota",
        }, cancellationToken);
        keys[tenant.SafeNotifyUserId] = created["apiKey"]!.GetValue<string>();
        return created["id"]!.GetValue<string>();
    }

    /// <summary>Finds the object in the tenant's list by a field, or creates it; returns its id.</summary>
    private static async Task<string> EnsureAsync(HttpClient http, string key, string path, string identifyingField, JsonObject body, CancellationToken cancellationToken)
    {
        var value = body[identifyingField]!.GetValue<string>();
        var list = await SendAsync(http, HttpMethod.Get, $"{path}?pageSize=200", key, null, cancellationToken);
        var found = list["items"]!.AsArray().FirstOrDefault(item => item?[identifyingField]?.GetValue<string>() == value);
        if (found is not null)
        {
            return found["id"]!.GetValue<string>();
        }

        var created = await SendAsync(http, HttpMethod.Post, path, key, body, cancellationToken);
        return created["id"]!.GetValue<string>();
    }

    /// <summary>Sends one call; a 409 with Retry-After (a service has not heard of the tenant yet) is retried.</summary>
    private static async Task<JsonNode> SendAsync(HttpClient http, HttpMethod method, string path, string key, JsonObject? body, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, options: Json);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Conflict && response.Headers.RetryAfter is not null && attempt < 60)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                continue;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text}");
            }

            return JsonNode.Parse(text) ?? throw new InvalidOperationException($"{method} {path} answered no JSON");
        }
    }

    private sealed record DemoTenant(
        string SafeNotifyUserId,
        string Name,
        string Plan,
        JsonObject[] Agents,
        Func<IReadOnlyDictionary<string, string>, JsonObject[]> Numbers,
        JsonObject[] Leads);

    private static JsonObject Hours(string weekdays, string? saturday) => new()
    {
        ["monday"] = Range(weekdays), ["tuesday"] = Range(weekdays), ["wednesday"] = Range(weekdays),
        ["thursday"] = Range(weekdays), ["friday"] = Range(weekdays),
        ["saturday"] = saturday is null ? new JsonArray() : Range(saturday),
        ["sunday"] = new JsonArray(),
        ["closedDates"] = new JsonArray("2026-12-25", "2027-01-01"),
    };

    private static JsonArray Range(string range)
    {
        var parts = range.Split('-');
        return [new JsonObject { ["start"] = parts[0], ["end"] = parts[1] }];
    }

    private static readonly DemoTenant[] Tenants =
    [
        new(
            "demo-clinica-dental",
            "Dr. Juan Pérez — Clínica Dental",
            "pro",
            [
                new JsonObject
                {
                    ["name"] = "DrBot",
                    ["description"] = "Asistente dental: citas y tratamientos",
                    ["role"] = "sales",
                    ["isDefault"] = true,
                    ["personalityPrompt"] = "Eres un asistente dental profesional, empático y claro. Conoces los procedimientos de la clínica.",
                    ["businessPrompt"] = "Clínica Dental del Dr. Juan Pérez, Bogotá. Especialidades: limpieza, ortodoncia e implantes.",
                    ["objectivesPrompt"] = "Agendar citas y educar a los pacientes sobre los tratamientos.",
                    ["businessRules"] = new JsonObject
                    {
                        ["canScheduleAppointments"] = true,
                        ["workingHours"] = "08:00-18:00",
                        ["specialties"] = new JsonArray("limpieza", "ortodoncia", "implantes"),
                    },
                    ["triggerKeywords"] = new JsonArray("cita", "dolor", "limpieza"),
                },
                new JsonObject
                {
                    ["name"] = "Urgencias",
                    ["description"] = "Urgencias dentales fuera de horario",
                    ["role"] = "support",
                    ["personalityPrompt"] = "Eres un asistente de urgencias dentales: calmado, directo y preciso.",
                    ["businessPrompt"] = "Línea de urgencias de la Clínica Dental del Dr. Juan Pérez.",
                    ["objectivesPrompt"] = "Evaluar la urgencia, dar indicaciones seguras y conectar con el odontólogo de turno.",
                    ["businessRules"] = new JsonObject { ["canScheduleAppointments"] = false },
                    ["activeHours"] = "18:00-08:00",
                    ["triggerKeywords"] = new JsonArray("urgencia", "dolor fuerte", "emergencia"),
                },
            ],
            agents =>
            [
                new JsonObject
                {
                    ["phoneNumber"] = "+57301111111",
                    ["displayName"] = "Citas generales",
                    ["isPrimary"] = true,
                    ["autoReply"] = true,
                    ["timezone"] = "America/Bogota",
                    ["defaultAgentId"] = agents["DrBot"],
                    ["businessHours"] = Hours("08:00-18:00", "08:00-12:00"),
                },
                new JsonObject
                {
                    ["phoneNumber"] = "+57302222222",
                    ["displayName"] = "Urgencias",
                    ["autoReply"] = true,
                    ["timezone"] = "America/Bogota",
                    ["defaultAgentId"] = agents["Urgencias"],
                },
            ],
            [
                new JsonObject
                {
                    ["phone"] = "+57311111111",
                    ["name"] = "María González",
                    ["customerType"] = "patient",
                    ["businessCategory"] = "ortodoncia",
                    ["preferences"] = new JsonObject { ["prefers_morning"] = true, ["insurance"] = "Sura" },
                    ["lastActivity"] = "2024-01-15T00:00:00-05:00",
                    ["nextFollowUp"] = "2024-02-01T00:00:00-05:00",
                    ["source"] = "demo",
                },
            ]),
        new(
            "demo-restaurante-la-plaza",
            "Restaurante La Plaza",
            "basic",
            [
                new JsonObject
                {
                    ["name"] = "ChefBot",
                    ["description"] = "Reservas, recomendaciones y domicilios",
                    ["role"] = "sales",
                    ["isDefault"] = true,
                    ["personalityPrompt"] = "Eres el asistente del restaurante: amigable, conoces el menú y sugieres platos.",
                    ["businessPrompt"] = "Restaurante La Plaza. Cocina española y colombiana; la paella es la especialidad.",
                    ["objectivesPrompt"] = "Tomar reservas, recomendar platos y gestionar pedidos a domicilio.",
                    ["businessRules"] = new JsonObject
                    {
                        ["canTakeReservations"] = true,
                        ["canProcessDelivery"] = true,
                        ["menuKnowledge"] = true,
                    },
                    ["triggerKeywords"] = new JsonArray("reserva", "delivery", "menú", "plato"),
                },
            ],
            agents =>
            [
                new JsonObject
                {
                    ["phoneNumber"] = "+57303333333",
                    ["displayName"] = "Reservas y delivery",
                    ["isPrimary"] = true,
                    ["autoReply"] = true,
                    ["timezone"] = "America/Bogota",
                    ["defaultAgentId"] = agents["ChefBot"],
                },
            ],
            [
                new JsonObject
                {
                    ["phone"] = "+57322222222",
                    ["name"] = "Carlos López",
                    ["customerType"] = "customer",
                    ["businessCategory"] = "regular",
                    ["preferences"] = new JsonObject { ["favorite_dish"] = "paella", ["delivery_address"] = "Cra 15 #45-23" },
                    ["totalSpent"] = 450000,
                    ["lastPurchase"] = "2024-01-10T00:00:00-05:00",
                    ["source"] = "demo",
                },
            ]),
    ];
}
