using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Agent.Services;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>What an evolved prompt may learn from customers' messages: the question, never who asked it.</summary>
public sealed class PersonalDataTests
{
    [Theory]
    [InlineData("Hola, soy María González y quiero una cita", "María", "González")]
    [InlineData("me llamo juan pérez, ¿cuánto cuesta?", "juan", "pérez")]
    [InlineData("Hi, my name is John Smith, how much is a cleaning?", "John", "Smith")]
    [InlineData("I'm Sarah Connor and I need an appointment", "Sarah", "Connor")]
    [InlineData("Mi correo es Maria.Gonzalez+citas@Gmail.com", "Gonzalez", "Gmail")]
    [InlineData("write to me at john_smith@example.co.uk please", "john_smith", "example")]
    [InlineData("Llámame al +57 311 111 1111", "311", "1111")]
    [InlineData("mi cel 3001234567", "3001234567", "300123")]
    [InlineData("call me on (601) 555-1234", "555", "1234")]
    [InlineData("Vivo en la Calle 127 #15-20 apto 301", "127", "15-20")]
    [InlineData("envíenlo a la cra 15 # 45-23", "cra 15", "45-23")]
    [InlineData("Av. Boyacá 12-30, Bogotá", "Boyacá 12", "12-30")]
    [InlineData("I live at 221B Baker Street", "221B", "Baker")]
    public void Names_emails_phones_and_addresses_are_removed(string text, string personal, string alsoPersonal)
    {
        var scrubbed = PersonalData.Scrub(text, []);

        Assert.DoesNotContain(personal, scrubbed, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(alsoPersonal, scrubbed, StringComparison.OrdinalIgnoreCase);
        Assert.NotEmpty(PersonalData.Find(text, []));
        Assert.Empty(PersonalData.Find(scrubbed, []));
    }

    [Fact]
    public void The_customers_known_name_is_removed_wherever_it_appears_with_or_without_accents()
    {
        var scrubbed = PersonalData.Scrub("MARIA necesita la cita, dile a gonzález que confirme. Mariana no.", ["María González"]);

        Assert.Equal("[name] necesita la cita, dile a [name] que confirme. Mariana no.", scrubbed);
    }

    [Theory]
    [InlineData("¿Cuánto cuesta la ortodoncia? ¿Es 3.000.000 COP?")]
    [InlineData("¿Abren el 2026-12-24 de 08:00-18:00?")]
    [InlineData("Quiero una clase de spinning a las 6")]
    [InlineData("Soy alérgico a la penicilina")]
    [InlineData("How much is a table for 4 at 8pm?")]
    public void Questions_without_personal_data_are_kept_as_they_are(string text)
    {
        Assert.Equal(text, PersonalData.Scrub(text, ["María González"]));
        Assert.Empty(PersonalData.Find(text, ["María González"]));
    }

    [Fact]
    public void A_version_is_checked_for_the_agents_prompts_its_rules_the_rules_that_always_apply_its_length_and_personal_data()
    {
        var agent = Seed.DrBotModel();
        const string summary = "Customers ask most about: prices (3).";
        var good = PromptComposer.Compose(agent, summary);

        Assert.Null(PromptCheck.Problem(agent, good, summary, 32_000, []));
        Assert.Contains("personality", PromptCheck.Problem(agent, good.Replace(Seed.PersonalityPrompt, ""), summary, 32_000, []));
        Assert.Contains("objectives", PromptCheck.Problem(agent, good.Replace(Seed.ObjectivesPrompt, ""), summary, 32_000, []));
        Assert.Contains("workingHours", PromptCheck.Problem(agent, good.Replace(Seed.WorkingHours, "24/7"), summary, 32_000, []));
        Assert.Contains("always apply", PromptCheck.Problem(agent, good.Replace(PromptComposer.AlwaysRules[0], ""), summary, 32_000, []));
        Assert.Contains("limit", PromptCheck.Problem(agent, good, summary, good.Length - 1, []));
        const string leaky = "Recent questions: \"escríbanme a ana@correo.com\".";
        Assert.Contains("email", PromptCheck.Problem(agent, PromptComposer.Compose(agent, leaky), leaky, 32_000, []));
        Assert.Contains("name", PromptCheck.Problem(agent, good, summary + " Ana Ruiz asked twice.", 32_000, ["Ana Ruiz"]));
    }

    [Fact]
    public void The_summary_counts_what_customers_ask_and_what_the_bot_answered_without_a_person()
    {
        QuestionSample Sample(long id, string text, bool neededHuman, string conversation) => new()
        {
            Id = id, AgentId = "agt", TenantId = "tnt", Text = text, Topics = [.. ContextSummary.TopicsOf(text)], NeededHuman = neededHuman, ConversationId = conversation,
        };
        List<QuestionSample> samples =
        [
            Sample(1, "¿cuánto cuesta la limpieza?", false, "c1"),
            Sample(2, "How much is whitening?", false, "c2"),
            Sample(3, "es una urgencia, me sangra la encía", true, "c3"),
            Sample(4, "quiero una cita", false, "c1"),
            Sample(5, "¿tienen parqueadero?", true, "c4"),
        ];

        var summary = ContextSummary.Build(samples, 1_500, new Dictionary<string, int> { ["c1"] = 5, ["c3"] = 1 });

        Assert.Contains("prices (2)", summary);
        Assert.Contains("prices 2/2", summary);      // answered by the bot
        Assert.Contains("urgent cases 1/1", summary); // needed a person
        Assert.Contains("other questions (1)", summary);
        Assert.Contains("\"¿cuánto cuesta la limpieza?\"", summary); // a short question about a known topic is quoted,
        Assert.DoesNotContain("parqueadero", summary);                  // one the bot did not recognise is only counted
        Assert.Contains("rated well (4-5) were about: booking, prices.", summary);   // results, from customers' ratings
        Assert.Contains("rated poorly (1-2) were about: urgent cases;", summary);
        Assert.DoesNotContain("rated", ContextSummary.Build(samples, 1_500));
        Assert.True(ContextSummary.Build(samples, 80).Length <= 80);
        Assert.Equal("", ContextSummary.Build([], 1_500));
    }
}
