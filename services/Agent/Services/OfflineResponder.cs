using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>What the offline responder knows of the agent it speaks for.</summary>
public sealed record AgentProfile(string Name, string BusinessPrompt, string ObjectivesPrompt, JsonObject BusinessRules, string? CustomerName);

/// <summary>
/// The model stand-in for machines without AI credentials (<c>AI__Provider=Offline</c>), useful on its own:
/// a deterministic <see cref="IChatClient"/> that greets as the agent, recognises the common intents of the
/// seed's businesses (book, cancel, prices, hours, location, urgency, a human) in Spanish and English,
/// answers from the business rules, and asks for a human when it cannot help. It never follows the
/// customer's instructions and never repeats its prompt: it only ever says sentences written here.
/// </summary>
public sealed class OfflineResponder(AgentProfile agent) : IChatClient
{
    public const string ModelName = "offline";

    /// <summary>Set in <see cref="ChatResponse.AdditionalProperties"/> when a person should take over.</summary>
    public const string NeedsHumanProperty = "needsHuman";

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        // Everything the customer said since the last reply is answered together.
        var unanswered = list.AsEnumerable().Reverse().TakeWhile(m => m.Role == ChatRole.User).Reverse().Select(m => m.Text).ToList();
        var said = string.Join(" \n ", unanswered);
        var english = CustomerText.IsEnglish(said);
        var intents = CustomerText.IntentsOf(said);
        var firstContact = !list.Any(m => m.Role == ChatRole.Assistant);

        var (text, needsHuman) = Compose(intents, english, firstContact);
        var prompt = list.Sum(m => m.Text.Length);
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = ModelName,
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails
            {
                // No tokenizer offline: a word-based estimate, so usage figures are not all zero.
                InputTokenCount = Math.Max(1, prompt / 4),
                OutputTokenCount = Math.Max(1, text.Length / 4),
                TotalTokenCount = Math.Max(1, prompt / 4) + Math.Max(1, text.Length / 4),
            },
            AdditionalProperties = new AdditionalPropertiesDictionary { [NeedsHumanProperty] = needsHuman },
        };
        return Task.FromResult(response);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private (string Text, bool NeedsHuman) Compose(HashSet<Intent> intents, bool english, bool firstContact)
    {
        var parts = new List<string>();
        var needsHuman = false;
        var name = string.IsNullOrWhiteSpace(agent.CustomerName) ? "" : " " + agent.CustomerName.Split(' ')[0];

        if (firstContact || intents.Contains(Intent.Greeting))
        {
            parts.Add(english
                ? $"Hi{name}! I'm {agent.Name}, the virtual assistant."
                : $"¡Hola{name}! Soy {agent.Name}, el asistente virtual.");
        }

        if (intents.Contains(Intent.Urgency))
        {
            parts.Add(english
                ? "I understand this is urgent. A person from our team will contact you right away; if it is a life-threatening emergency, call 123."
                : "Entiendo que es urgente. Una persona de nuestro equipo te contactará de inmediato; si es una emergencia vital, llama al 123.");
            needsHuman = true;
        }

        if (intents.Contains(Intent.Human))
        {
            parts.Add(english
                ? "Of course, I'm passing the conversation to a person from the team; they will reply here shortly."
                : "Claro, le paso la conversación a una persona del equipo; te responderá por aquí en breve.");
            needsHuman = true;
        }

        if (intents.Contains(Intent.Cancel))
        {
            parts.Add(english
                ? "No problem. Tell me the date of your booking and I'll have the team cancel it."
                : "Sin problema. Cuéntame la fecha de tu cita o reserva y el equipo la cancela.");
        }
        else if (intents.Contains(Intent.Book))
        {
            if (Rule("canScheduleAppointments") || Rule("canTakeReservations"))
            {
                var specialties = List("specialties");
                parts.Add(english
                    ? $"I'd be glad to help you book.{(specialties is null ? "" : $" We offer {specialties}.")} Which day and time suit you best?"
                    : $"Con gusto te ayudo a agendar.{(specialties is null ? "" : $" Ofrecemos {specialties}.")} ¿Qué día y a qué hora te queda mejor?");
            }
            else
            {
                parts.Add(english
                    ? "A person from the team will help you book; they will write to you here."
                    : "Una persona del equipo te ayudará a agendar; te escribirá por aquí.");
                needsHuman = true;
            }
        }

        if (intents.Contains(Intent.Hours))
        {
            var hours = Text("workingHours");
            parts.Add(hours is null
                ? (english ? "A person from the team will confirm our opening hours." : "Una persona del equipo te confirmará nuestro horario.")
                : (english ? $"We are open {hours}." : $"Nuestro horario de atención es {hours}."));
            needsHuman |= hours is null;
        }

        if (intents.Contains(Intent.Location))
        {
            var address = Text("address");
            parts.Add(address is null
                ? (english ? "A person from the team will send you our address." : "Una persona del equipo te enviará nuestra dirección.")
                : (english ? $"You'll find us at {address}." : $"Nos encuentras en {address}."));
            needsHuman |= address is null;
        }

        if (intents.Contains(Intent.Prices))
        {
            var prices = agent.BusinessRules["prices"] as JsonObject;
            parts.Add(prices is null
                ? (english ? "Prices depend on what you need; a person from the team will give you the details." : "Los precios dependen de lo que necesites; una persona del equipo te dará el detalle.")
                : (english ? "Our prices: " : "Nuestros precios: ") + string.Join("; ", prices.Select(p => $"{p.Key}: {p.Value}")) + ".");
            needsHuman |= prices is null;
        }

        if (intents.Contains(Intent.Thanks) && parts.Count == 0)
        {
            parts.Add(english ? "You're welcome! Anything else I can help with?" : "¡Con gusto! ¿Te ayudo con algo más?");
        }

        // Mid-conversation, a message it did not understand gets an offer of a person, not a fresh
        // "how can I help?" as if the customer had said nothing.
        if (intents.Count == 0 && !firstContact)
        {
            parts.Add(english
                ? "Could you tell me a bit more? If you prefer, I can pass you to a person from the team."
                : "¿Me cuentas un poco más? Si prefieres, te comunico con una persona del equipo.");
        }
        else if (parts.Count == 0 || (parts.Count == 1 && (firstContact || intents.Contains(Intent.Greeting)) && intents.Count <= 1))
        {
            parts.Add(english ? "How can I help you today?" : "¿En qué te puedo ayudar?");
        }

        return (string.Join(" ", parts), needsHuman);
    }

    private bool Rule(string name) => agent.BusinessRules[name] is JsonValue value && value.TryGetValue(out bool flag) && flag;

    private string? Text(string name) => agent.BusinessRules[name] is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private string? List(string name) => agent.BusinessRules[name] is JsonArray array && array.Count > 0
        ? string.Join(", ", array.Select(item => item?.ToString()))
        : null;
}
