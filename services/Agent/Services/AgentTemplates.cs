using System.Text.Json.Nodes;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>
/// The seed's example agents (Odontología: DrBot and the night "Urgencias"; Restaurante: ChefBot; Gimnasio: FitBot;
/// Legal: LawBot) as starting points: <c>POST /api/agents {"templateId":"drbot", ...}</c> creates one, any field
/// given in the body replacing the template's.
/// </summary>
public static class AgentTemplates
{
    public sealed record Template(string Id, string Industry, JsonObject Fields);

    public static readonly IReadOnlyList<Template> All =
    [
        new("drbot", "dental", new JsonObject
        {
            ["name"] = "DrBot",
            ["description"] = "Citas generales de la clínica dental",
            ["role"] = "sales",
            ["personalityPrompt"] = "Eres un asistente dental profesional y empático que conoce los procedimientos odontológicos. Explicas con palabras sencillas y tranquilizas al paciente.",
            ["businessPrompt"] = "Clínica dental: odontología general para adultos y niños (limpieza, ortodoncia, implantes). Completa aquí la dirección, los precios y los convenios de tu clínica.",
            ["objectivesPrompt"] = "Agendar citas y educar sobre tratamientos. Si hay dolor fuerte, sangrado o inflamación, trata el caso como urgencia y avisa al equipo.",
            ["model"] = "gpt-4o-mini",
            ["temperature"] = 0.4,
            ["maxTokensPerMessage"] = 300,
            ["businessRules"] = new JsonObject
            {
                ["canScheduleAppointments"] = true,
                ["workingHours"] = "08:00-18:00",
                ["specialties"] = new JsonArray("limpieza", "ortodoncia", "implantes"),
            },
            ["triggerKeywords"] = new JsonArray("cita", "dolor", "limpieza"),
        }),
        new("urgencias", "dental", new JsonObject
        {
            ["name"] = "Urgencias",
            ["description"] = "Urgencias dentales fuera del horario de atención",
            ["role"] = "support",
            ["personalityPrompt"] = "Eres un asistente de urgencias dentales: calmado, claro y rápido. Nunca das diagnósticos.",
            ["businessPrompt"] = "Clínica dental con odontólogo de turno para urgencias en la noche. Completa aquí cómo se contacta al odontólogo de turno.",
            ["objectivesPrompt"] = "Tranquilizar al paciente, reunir los síntomas (dolor, sangrado, inflamación, golpe) y avisar al odontólogo de turno.",
            ["model"] = "gpt-4o-mini",
            ["temperature"] = 0.2,
            ["maxTokensPerMessage"] = 250,
            ["businessRules"] = new JsonObject { ["canScheduleAppointments"] = false },
            ["triggerKeywords"] = new JsonArray("urgencia", "dolor fuerte", "emergencia"),
            ["activeHours"] = "18:00-08:00",
        }),
        new("chefbot", "restaurant", new JsonObject
        {
            ["name"] = "ChefBot",
            ["description"] = "Reservas y domicilios del restaurante",
            ["role"] = "sales",
            ["personalityPrompt"] = "Eres el asistente del restaurante: amigable, conoces el menú y sugieres platos según el gusto del cliente.",
            ["businessPrompt"] = "Restaurante con servicio en mesa y domicilios. Completa aquí el menú, los precios, la dirección y la zona de domicilios.",
            ["objectivesPrompt"] = "Tomar reservas (fecha, hora, número de personas), recomendar platos y tomar pedidos a domicilio.",
            ["model"] = "gpt-4o-mini",
            ["temperature"] = 0.7,
            ["maxTokensPerMessage"] = 300,
            ["businessRules"] = new JsonObject
            {
                ["canTakeReservations"] = true,
                ["canProcessDelivery"] = true,
                ["menuKnowledge"] = true,
            },
            ["triggerKeywords"] = new JsonArray("reserva", "delivery", "domicilio", "menú", "plato"),
        }),
        new("fitbot", "gym", new JsonObject
        {
            ["name"] = "FitBot",
            ["description"] = "Membresías y clases del gimnasio",
            ["role"] = "sales",
            ["personalityPrompt"] = "Eres el asistente del gimnasio: motivador y positivo, conoces las rutinas y las clases grupales.",
            ["businessPrompt"] = "Gimnasio con zona de pesas, cardio y clases grupales. Completa aquí los planes de membresía, los precios y el horario de clases.",
            ["objectivesPrompt"] = "Vender membresías, agendar clases de prueba y resolver dudas sobre rutinas sin dar consejos médicos.",
            ["model"] = "gpt-4o-mini",
            ["temperature"] = 0.8,
            ["maxTokensPerMessage"] = 300,
            ["businessRules"] = new JsonObject
            {
                ["canScheduleAppointments"] = true,
                ["workingHours"] = "05:00-22:00",
            },
            ["triggerKeywords"] = new JsonArray("membresía", "clase", "rutina", "plan"),
        }),
        new("lawbot", "legal", new JsonObject
        {
            ["name"] = "LawBot",
            ["description"] = "Consultas del despacho de abogados",
            ["role"] = "assistant",
            ["personalityPrompt"] = "Eres el asistente de un despacho de abogados: formal, confidencial y preciso. Nunca das asesoría legal por este medio.",
            ["businessPrompt"] = "Despacho de abogados. Completa aquí las áreas de práctica, el valor de la consulta inicial y la dirección.",
            ["objectivesPrompt"] = "Agendar consultas y pre-calificar casos: área del derecho, urgencia y si hay plazos o audiencias próximas.",
            ["model"] = "gpt-4o-mini",
            ["temperature"] = 0.3,
            ["maxTokensPerMessage"] = 350,
            ["businessRules"] = new JsonObject
            {
                ["canScheduleAppointments"] = true,
                ["workingHours"] = "08:00-17:00",
            },
            ["triggerKeywords"] = new JsonArray("consulta", "abogado", "demanda", "contrato"),
        }),
    ];

    public static Template? Find(string id) => All.FirstOrDefault(t => t.Id.Equals(id.Trim(), StringComparison.OrdinalIgnoreCase));
}
