using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>One WhatsApp message along the whole path: gateway → Ingress → Routing → Lead → Agent → Lead → Ingress → Twilio.</summary>
[Collection(SystemCollection.Name)]
public sealed class MessagePathTests(SystemFixture system)
{
    [Fact]
    public async Task A_customer_message_through_the_gateway_gets_the_agents_reply_at_Twilio()
    {
        var tenant = await system.CreateTenantAsync("Clínica Sonrisas", agentName: "DrBot");
        var customer = NewCustomer();

        var (_, status) = await system.SendAsCustomerAsync(customer, tenant.Phone, "Hola, quiero una cita para limpieza");
        Assert.Equal(200, status);

        var reply = await Eventually.ReturnsAsync(async () => (await system.SentToAsync(customer)).FirstOrDefault(), "a reply sent to the customer through Twilio");
        Assert.Equal($"whatsapp:{tenant.Phone}", reply!["from"]!.GetValue<string>());
        var text = reply["body"]!.GetValue<string>();
        Assert.Contains("DrBot", text);           // the agent introduces itself
        Assert.Contains("agendar", text);         // and answers the booking request, in Spanish

        // The conversation is visible to the tenant, with both messages in order and the reason for the agent.
        var conversations = await system.CallAsync(HttpMethod.Get, "/api/conversations", tenant.ApiKey);
        var conversation = conversations["items"]!.AsArray().Single(c => c!["customerId"]!.GetValue<string>() == customer)!;
        Assert.Equal(tenant.AgentId, conversation["currentAgentId"]!.GetValue<string>());
        Assert.Contains("keyword", conversation["agentReason"]!.GetValue<string>()); // why this agent: its keyword matched
        var detail = await system.CallAsync(HttpMethod.Get, $"/api/conversations/{conversation["id"]}", tenant.ApiKey);
        var messages = detail["messages"]!.AsArray();
        Assert.Equal(["CUSTOMER", "AI_AGENT"], messages.Select(m => m!["author"]!.GetValue<string>()));
        Assert.Equal(text, messages[1]!["body"]!.GetValue<string>());

        // Twilio's status callbacks come back through the gateway and move the reply forward to "read".
        await Eventually.TrueAsync(async () =>
        {
            var latest = await system.CallAsync(HttpMethod.Get, $"/api/conversations/{conversation["id"]}", tenant.ApiKey);
            return latest["messages"]![1]!["deliveryStatus"]!.GetValue<string>() == "read";
        }, "the reply's delivery status to reach 'read'");

        // And the customer became a lead named from their WhatsApp profile.
        var leads = await system.CallAsync(HttpMethod.Get, $"/api/leads?search={Uri.EscapeDataString(customer)}", tenant.ApiKey);
        Assert.Equal("María González", leads["items"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task One_message_is_one_trace_from_the_webhook_to_the_call_to_Twilio()
    {
        var tenant = await system.CreateTenantAsync("Clínica Trazada");
        var customer = NewCustomer();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();

        // Twilio's request arrives carrying a trace context: every hop (gateway, Ingress, the outbox and the
        // broker to Routing, Lead, Agent, back to Lead and Ingress) must continue that one trace.
        var request = TwilioSigner.SignedPost(system.Gateway.BaseAddress!.ToString(), "/webhooks/twilio/whatsapp",
            InboundForm(customer, tenant.Phone, system.Twilio.AccountSid, "Hola, quiero una cita"), system.Twilio.AuthToken);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using (var response = await system.Gateway.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var reply = await Eventually.ReturnsAsync(async () => (await system.SentToAsync(customer)).FirstOrDefault(), "the reply at Twilio");
        var sentWith = reply!["traceParent"]?.GetValue<string>();
        Assert.NotNull(sentWith);
        Assert.Equal(traceId, sentWith!.Split('-')[1]);
    }

    [Fact]
    public async Task The_same_MessageSid_delivered_twice_gets_one_reply()
    {
        var tenant = await system.CreateTenantAsync("Clínica Duplicada");
        var customer = NewCustomer();
        var messageSid = "SM" + Guid.NewGuid().ToString("N");

        // Twilio retries, and the same webhook arrives twice at once.
        var deliveries = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => system.SendAsCustomerAsync(customer, tenant.Phone, "Hola", messageSid)));
        Assert.All(deliveries, d => Assert.Equal(200, d.WebhookStatus));

        await Eventually.TrueAsync(async () => (await system.SentToAsync(customer)).Count >= 1, "the reply");
        // A later message of the same customer is answered too: by then a second reply to the duplicate would have come first.
        await system.SendAsCustomerAsync(customer, tenant.Phone, "¿Tienen cita el lunes?");
        await Eventually.TrueAsync(async () => (await system.SentToAsync(customer)).Count >= 2, "the reply to the second message");

        var conversations = await system.CallAsync(HttpMethod.Get, "/api/conversations", tenant.ApiKey);
        var id = conversations["items"]!.AsArray().Single(c => c!["customerId"]!.GetValue<string>() == customer)!["id"]!.GetValue<string>();
        var messages = (await system.CallAsync(HttpMethod.Get, $"/api/conversations/{id}", tenant.ApiKey))["messages"]!.AsArray();
        Assert.Equal(2, messages.Count(m => m!["author"]!.GetValue<string>() == "CUSTOMER"));
        Assert.Equal(2, (await system.SentToAsync(customer)).Count);
    }

    [Fact]
    public async Task A_webhook_with_a_wrong_or_missing_signature_is_refused_and_stores_nothing()
    {
        var tenant = await system.CreateTenantAsync("Clínica Segura");
        var forger = NewCustomer();

        var (_, wrongSignature) = await system.SendAsCustomerAsync(forger, tenant.Phone, "Hola", signature: "bad-signature");
        Assert.Equal(403, wrongSignature);

        var form = InboundForm(forger, tenant.Phone, system.Twilio.AccountSid, "Hola sin firma");
        using (var unsigned = await system.Gateway.PostAsync("/webhooks/twilio/whatsapp", new FormUrlEncodedContent(form)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        }

        // Signed with the right algorithm but another account's token: still refused.
        using (var otherToken = await PostSignedAsync(form, authToken: "0123456789abcdef0123456789abcdef"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, otherToken.StatusCode);
        }

        // A genuine message from another customer goes all the way through ...
        var genuine = NewCustomer();
        using (var signed = await PostSignedAsync(InboundForm(genuine, tenant.Phone, system.Twilio.AccountSid, "Hola, quiero una cita"), system.Twilio.AuthToken))
        {
            Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
            Assert.Contains("<Response>", await signed.Content.ReadAsStringAsync());
        }

        await Eventually.TrueAsync(async () => (await system.SentToAsync(genuine)).Count == 1, "the reply to the genuine message");
        // ... while the refused ones left no trace: no conversation, no lead, no reply.
        var conversations = await system.CallAsync(HttpMethod.Get, "/api/conversations", tenant.ApiKey);
        Assert.DoesNotContain(conversations["items"]!.AsArray(), c => c!["customerId"]!.GetValue<string>() == forger);
        Assert.Equal(0, (await system.CallAsync(HttpMethod.Get, $"/api/leads?search={Uri.EscapeDataString(forger)}", tenant.ApiKey))["total"]!.GetValue<int>());
        Assert.Empty(await system.SentToAsync(forger));
    }

    [Fact]
    public async Task Bad_webhook_input_gets_a_clear_4xx_never_a_5xx()
    {
        // Signed-looking, so that it gets past the gateway (which refuses an unsigned webhook with 403) to Ingress.
        using var jsonRequest = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/whatsapp")
        {
            Content = new StringContent("{\"Body\":\"hola\"}", Encoding.UTF8, "application/json"),
        };
        jsonRequest.Headers.Add("X-Twilio-Signature", Convert.ToBase64String(new byte[20]));
        using var json = await system.Gateway.SendAsync(jsonRequest);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Equal("application/problem+json", json.Content.Headers.ContentType?.MediaType);

        using var huge = await system.Gateway.PostAsync("/webhooks/twilio/whatsapp", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["Body"] = new string('a', 200_000) }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
    }

    private static Dictionary<string, string> InboundForm(string from, string to, string accountSid, string body) =>
        TwilioSigner.InboundForm(accountSid, from, to, body);

    /// <summary>Signed by the tests' own implementation of Twilio's documented algorithm, not by the stand-in.</summary>
    private Task<HttpResponseMessage> PostSignedAsync(Dictionary<string, string> form, string authToken) =>
        system.Gateway.SendAsync(TwilioSigner.SignedPost(system.Gateway.BaseAddress!.ToString(), "/webhooks/twilio/whatsapp", form, authToken));

    private static string NewCustomer() => "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
}
