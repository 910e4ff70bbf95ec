using System.Text.Json.Nodes;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>The seed's example agents (Caso 1: Clínica Dental) and the messages Lead would send them.</summary>
public static class Seed
{
    public const string PersonalityPrompt = "Eres un asistente dental profesional, empático, que conoce los procedimientos.";
    public const string BusinessPrompt = "Clínica Dental Sonrisas en Bogotá: odontología general para adultos y niños, convenio con Sura.";
    public const string ObjectivesPrompt = "Agendar citas y educar sobre tratamientos.";
    public const string WorkingHours = "08:00-18:00";
    public static readonly string[] Specialties = ["limpieza", "ortodoncia", "implantes"];

    /// <summary>"DrBot" as the seed writes it, as a POST /api/agents body.</summary>
    public static JsonObject DrBot(string name = "DrBot") => new()
    {
        ["name"] = name,
        ["description"] = "Citas generales",
        ["role"] = "sales",
        ["personalityPrompt"] = PersonalityPrompt,
        ["businessPrompt"] = BusinessPrompt,
        ["objectivesPrompt"] = ObjectivesPrompt,
        ["model"] = "gpt-4o-mini",
        ["temperature"] = 0.4,
        ["maxTokensPerMessage"] = 300,
        ["businessRules"] = DrBotRules(),
        ["triggerKeywords"] = new JsonArray("cita", "dolor", "limpieza"),
    };

    public static JsonObject DrBotRules() => new()
    {
        ["canScheduleAppointments"] = true,
        ["workingHours"] = WorkingHours,
        ["specialties"] = new JsonArray(Specialties.Select(s => (JsonNode?)s).ToArray()),
    };

    /// <summary>The seed's night agent: active "18:00-08:00", the string form of its hours.</summary>
    public static JsonObject Urgencias() => new()
    {
        ["name"] = "Urgencias",
        ["role"] = "support",
        ["personalityPrompt"] = "Eres un asistente de urgencias dentales.",
        ["businessPrompt"] = BusinessPrompt,
        ["objectivesPrompt"] = "Tranquilizar al paciente y avisar al odontólogo de turno.",
        ["activeHours"] = "18:00-08:00",
        ["triggerKeywords"] = new JsonArray("urgencia", "dolor fuerte", "emergencia"),
    };

    /// <summary>DrBot as the service stores it, for tests that use the service's classes directly.</summary>
    public static AiAgent DrBotModel(JsonObject? rules = null, string model = "gpt-4o-mini") => new()
    {
        Id = "agt_" + Guid.NewGuid().ToString("N")[..12],
        TenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12],
        Name = "DrBot",
        Role = "sales",
        PersonalityPrompt = PersonalityPrompt,
        BusinessPrompt = BusinessPrompt,
        ObjectivesPrompt = ObjectivesPrompt,
        Model = model,
        Temperature = 0.4,
        MaxTokensPerMessage = 300,
        BusinessRules = rules ?? DrBotRules(),
        TriggerKeywords = ["cita", "dolor", "limpieza"],
    };

    /// <summary>
    /// Lead asks for a reply to a conversation whose turns are <paramref name="turns"/> (customer turns are
    /// numbered 1, 2, ...; the request covers up to the last one).
    /// </summary>
    public static ReplyRequested ReplyRequest(string tenantId, string agentId, params (MessageAuthor Author, string Text)[] turns)
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-turns.Length);
        return new ReplyRequested(
            tenantId,
            "conv_" + Guid.NewGuid().ToString("N")[..12],
            agentId,
            "num_" + Guid.NewGuid().ToString("N")[..12],
            turns.Count(t => t.Author == MessageAuthor.Customer),
            turns.Select((t, i) => new ConversationTurn(t.Author, t.Text, start.AddMinutes(i))).ToList(),
            new CustomerContext("lead_" + Guid.NewGuid().ToString("N")[..12], "María González", "patient", ["ortodoncia"],
                new Dictionary<string, string> { ["insurance"] = "Sura" }),
            DateTimeOffset.UtcNow);
    }

    public static (MessageAuthor, string) Customer(string text) => (MessageAuthor.Customer, text);

    public static (MessageAuthor, string) Bot(string text) => (MessageAuthor.AiAgent, text);
}
