using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Ingress.Services;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Ingress.Tests;

[Collection(IngressCollection.Name)]
public sealed class InboundWebhookTests(IngressService ingress)
{
    private const string Number = "+57301111111";

    [Fact]
    public async Task A_signed_message_is_stored_answered_with_empty_TwiML_and_announced_with_its_sequence()
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var customer = NewCustomer();
        var first = TwilioSigner.InboundForm(IngressService.AccountSid, customer, Number, "Hola, quiero una cita");
        var second = TwilioSigner.InboundForm(IngressService.AccountSid, customer, Number, "¿Tienen horario el sábado?");

        using var response = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", first);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>", await response.Content.ReadAsStringAsync());
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", second)).EnsureSuccessStatusCode();

        var one = await received.FirstAsync(m => m.MessageSid == first["MessageSid"]);
        var two = await received.FirstAsync(m => m.MessageSid == second["MessageSid"]);
        Assert.Equal((Number, customer, customer, "María González", "Hola, quiero una cita"), (one.To, one.CustomerId, one.CustomerPhone, one.ProfileName, one.Text));
        Assert.Equal((1L, 2L), (one.Sequence, two.Sequence));
        Assert.Equal(IngressService.AccountSid, one.AccountSid);
    }

    [Fact]
    public async Task Media_location_and_a_customer_id_that_is_not_a_phone_number_are_kept()
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, "maria.gonzalez.bsuid", Number, "");
        form.Remove("WaId");
        form["NumMedia"] = "2";
        form["MediaUrl0"] = "https://api.twilio.com/media/ME1";
        form["MediaContentType0"] = "image/jpeg";
        form["MediaUrl1"] = "https://api.twilio.com/media/ME2";
        form["MediaContentType1"] = "audio/ogg";
        form["Latitude"] = "4.6097";
        form["Longitude"] = "-74.0817";
        form["Address"] = "Cra 15 #45-23, Bogotá";
        form["SomeFieldTwilioAddsTomorrow"] = "kept";

        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();

        var message = await received.FirstAsync(m => m.MessageSid == form["MessageSid"]);
        Assert.Equal("maria.gonzalez.bsuid", message.CustomerId);
        Assert.Null(message.CustomerPhone);
        Assert.Equal([("https://api.twilio.com/media/ME1", "image/jpeg"), ("https://api.twilio.com/media/ME2", "audio/ogg")],
            message.Media.Select(m => (m.Url, m.ContentType)));
        Assert.Equal((4.6097, -74.0817, "Cra 15 #45-23, Bogotá"), (message.Location!.Latitude, message.Location.Longitude, message.Location.Address));
        var raw = await ingress.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
            db.InboundMessages, m => m.MessageSid == form["MessageSid"]));
        Assert.Equal("kept", raw.RawPayload["SomeFieldTwilioAddsTomorrow"]);
    }

    [Fact]
    public async Task Button_replies_and_the_WhatsApp_id_are_parsed_and_a_username_id_customer_gets_the_phone_from_WaId()
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, "maria.gonzalez.bsuid", Number, "Sí, confirmo");
        form["WaId"] = "573015550142";
        form["ButtonPayload"] = "confirm_appointment_42";
        form["ButtonText"] = "Sí, confirmo";
        form["MessageType"] = "button";

        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();

        var message = await received.FirstAsync(m => m.MessageSid == form["MessageSid"]);
        Assert.Equal(("maria.gonzalez.bsuid", "+573015550142", "573015550142"), (message.CustomerId, message.CustomerPhone, message.WaId));
        Assert.Equal(("confirm_appointment_42", "Sí, confirmo"), (message.ButtonPayload, message.ButtonText));
        var stored = await ingress.WithDbAsync(db => db.InboundMessages.AsNoTracking().SingleAsync(m => m.MessageSid == form["MessageSid"]));
        Assert.Equal(("573015550142", "+573015550142", "confirm_appointment_42", "Sí, confirmo"), (stored.WaId, stored.CustomerPhone, stored.ButtonPayload, stored.ButtonText));
    }

    [Theory]
    [InlineData("NaN", "-74.0817")]
    [InlineData("Infinity", "-74.0817")]
    [InlineData("91", "-74.0817")]
    [InlineData("4.6097", "-181")]
    public async Task A_message_with_an_impossible_location_is_stored_and_announced_without_it(string latitude, string longitude)
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "Estoy aquí");
        form["Latitude"] = latitude;
        form["Longitude"] = longitude;

        using var response = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await received.FirstAsync(m => m.MessageSid == form["MessageSid"]);
        Assert.Equal(("Estoy aquí", null), (message.Text, message.Location));
        var stored = await ingress.WithDbAsync(db => db.InboundMessages.AsNoTracking().SingleAsync(m => m.MessageSid == form["MessageSid"]));
        Assert.Equal(latitude, stored.RawPayload["Latitude"]); // what Twilio sent is still kept
    }

    [Fact]
    public async Task A_number_in_a_subaccount_is_checked_with_that_accounts_token()
    {
        var form = TwilioSigner.InboundForm(IngressService.SubaccountSid, NewCustomer(), Number, "hola");
        using var withOwnToken = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form, IngressService.SubaccountToken);
        Assert.Equal(HttpStatusCode.OK, withOwnToken.StatusCode);

        var other = TwilioSigner.InboundForm(IngressService.SubaccountSid, NewCustomer(), Number, "hola");
        using var withMainToken = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", other, IngressService.AuthToken);
        Assert.Equal(HttpStatusCode.Forbidden, withMainToken.StatusCode);
        Assert.Equal(0, await ingress.StoredAsync(other["MessageSid"]));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("wrong token")]
    [InlineData("unknown account")]
    [InlineData("tampered body")]
    [InlineData("another url")]
    public async Task A_webhook_that_is_not_genuinely_from_Twilio_is_403_and_stores_nothing(string forgery)
    {
        var form = TwilioSigner.InboundForm(forgery == "unknown account" ? "AC99999999999999999999999999999999" : IngressService.AccountSid, NewCustomer(), Number, "hola");
        HttpResponseMessage response;
        switch (forgery)
        {
            case "missing":
                response = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form, authToken: null);
                break;
            case "tampered body":
                var request = TwilioSigner.SignedPost(IngressService.PublicBaseUrl, "/webhooks/twilio/whatsapp", form, IngressService.AuthToken);
                form["Body"] = "transfer everything";
                request.Content = new FormUrlEncodedContent(form);
                response = await ingress.CreateClient().SendAsync(request);
                break;
            case "another url":
                var elsewhere = TwilioSigner.SignedPost("https://attacker.example", "/webhooks/twilio/whatsapp", form, IngressService.AuthToken);
                response = await ingress.CreateClient().SendAsync(elsewhere);
                break;
            default:
                response = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form, "00000000000000000000000000000000");
                break;
        }

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await ingress.StoredAsync(form["MessageSid"]));
    }

    [Fact]
    public async Task The_same_MessageSid_at_once_and_again_later_is_accepted_and_stored_once()
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "hola");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();

        Assert.Equal(1, await ingress.StoredAsync(form["MessageSid"]));
        await received.FirstAsync(m => m.MessageSid == form["MessageSid"]);
        // A later message of the same customer is announced after it: by then a duplicate would have been too.
        var later = TwilioSigner.InboundForm(IngressService.AccountSid, form["From"]["whatsapp:".Length..], Number, "¿sigue ahí?");
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", later)).EnsureSuccessStatusCode();
        var next = await received.FirstAsync(m => m.MessageSid == later["MessageSid"]);
        Assert.Equal(2, next.Sequence);
        Assert.Single(received.Where(m => m.MessageSid == form["MessageSid"]));
    }

    [Fact]
    public async Task Webhooks_arriving_together_are_each_stored_once_with_gapless_sequences_for_each_customer()
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var customers = Enumerable.Range(0, 3).Select(_ => NewCustomer()).ToList();
        var forms = customers.SelectMany(c => Enumerable.Range(1, 12).Select(i => TwilioSigner.InboundForm(IngressService.AccountSid, c, Number, $"mensaje {i}"))).ToList();

        // Each webhook twice (Twilio's retry racing its original), all at once, so they share transactions.
        var responses = await Task.WhenAll(forms.Concat(forms).OrderBy(_ => Random.Shared.Next())
            .Select(form => ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var sids = forms.Select(f => f["MessageSid"]).ToList();
        var stored = await ingress.WithDbAsync(db => db.InboundMessages.AsNoTracking().Where(m => sids.Contains(m.MessageSid)).ToListAsync());
        Assert.Equal(sids.Order(), stored.Select(m => m.MessageSid).Order());
        foreach (var customer in customers)
        {
            Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), stored.Where(m => m.CustomerId == customer).Select(m => m.Sequence).Order());
        }

        await Eventually.TrueAsync(() => Task.FromResult(received.Where(m => sids.Contains(m.MessageSid)).Count >= sids.Count), "every message announced");
        var announced = received.Where(m => sids.Contains(m.MessageSid));
        Assert.Equal(sids.Count, announced.Count);
        Assert.All(announced, m => Assert.Equal(stored.Single(s => s.MessageSid == m.MessageSid).Sequence, m.Sequence));
    }

    [Fact]
    public async Task A_MessageSid_another_instance_is_storing_at_that_moment_fails_none_of_the_webhooks_written_with_it()
    {
        await using var received = await ingress.WatchAsync<WhatsAppMessageReceived>();
        var contested = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "hola");
        var others = Enumerable.Range(0, 10).Select(i => TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, $"buenas {i}")).ToList();

        // Another instance has written the contested message and not committed yet: whoever writes it too waits on
        // the unique index, then fails when that instance commits.
        await using var scope = ingress.Services.CreateAsyncScope();
        var other = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        await using var transaction = await other.Database.BeginTransactionAsync();
        other.InboundMessages.Add(new InboundMessage
        {
            Id = "in_other_instance_" + contested["MessageSid"], MessageSid = contested["MessageSid"], AccountSid = IngressService.AccountSid,
            To = Number, CustomerId = contested["From"]["whatsapp:".Length..], Body = "hola", RawPayload = contested, Sequence = 1,
            ReceivedAt = DateTimeOffset.UtcNow,
        });
        await other.SaveChangesAsync();

        var posting = Task.WhenAll(others.Prepend(contested).Select(form => ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)));
        await Eventually.TrueAsync(async () => await ingress.WithDbAsync(DatabaseLocks.BlockedAsync) > 0, "the webhook store waiting for the other instance");
        await transaction.CommitAsync();

        var responses = await posting;
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, await ingress.StoredAsync(contested["MessageSid"]));
        foreach (var form in others)
        {
            Assert.Equal(1, await ingress.StoredAsync(form["MessageSid"]));
            await received.FirstAsync(m => m.MessageSid == form["MessageSid"]);
        }

        Assert.Empty(received.Where(m => m.MessageSid == contested["MessageSid"]));
    }

    [Fact]
    public async Task While_Ingress_stops_a_webhook_it_took_is_still_stored_and_a_later_one_gets_503_for_Twilio_to_retry()
    {
        // An instance of its own to stop, on its own database and broker.
        await using var broker = new RabbitMqServer();
        await broker.StartAsync();
        var database = await (await SharedServers.PostgresAsync()).CreateServiceDatabaseAsync("ingress");
        await using var stopping = ingress.InstanceOn(database, broker.ConnectionString);
        var taken = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "Hola, ¿abren hoy?");
        var late = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "Good afternoon");

        Task<HttpResponseMessage> takenAnswer;
        Task storeStopped;
        await using (var scope = stopping.Services.CreateAsyncScope())
        {
            // Another session holds the table, so the webhook taken first is still being written when the stop begins.
            var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
            await using var hold = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlRawAsync("LOCK TABLE ingress.inbound_messages IN SHARE MODE");
            takenAnswer = IngressService.PostWebhookAsync(stopping, "/webhooks/twilio/whatsapp", taken);
            await Eventually.TrueAsync(async () => await IngressService.WithDbAsync(stopping, DatabaseLocks.BlockedAsync) > 0, "the webhook store waiting for the table");

            storeStopped = stopping.Services.GetRequiredService<InboundStore>().StopAsync(CancellationToken.None);
            // Answered at once: not queued behind the held table.
            using var refused = await IngressService.PostWebhookAsync(stopping, "/webhooks/twilio/whatsapp", late).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.False(storeStopped.IsCompleted, "the store stopped before writing the webhook it had taken");
            await hold.CommitAsync();
        }

        using (var answered = await takenAnswer)
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        await storeStopped;
        Assert.Equal((1, 0), (await IngressService.StoredAsync(stopping, taken["MessageSid"]), await IngressService.StoredAsync(stopping, late["MessageSid"])));

        // Twilio retries the refused webhook; the instance that takes over stores it.
        await using var next = ingress.InstanceOn(database, broker.ConnectionString);
        using (var retried = await IngressService.PostWebhookAsync(next, "/webhooks/twilio/whatsapp", late))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        Assert.Equal(1, await IngressService.StoredAsync(next, late["MessageSid"]));
    }

    [Fact]
    public void The_webhook_store_writes_every_column_the_model_maps_for_inbound_messages()
    {
        // The store writes with its own SQL, not EF: a column added to the model must be added there too.
        using var scope = ingress.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        var table = StoreObjectIdentifier.Table("inbound_messages", IngressDbContext.Schema);
        var mapped = db.Model.FindEntityType(typeof(InboundMessage))!.GetProperties().Select(p => p.GetColumnName(table)!);

        var insert = Regex.Match(InboundBatch.InsertSql, @"INSERT INTO ingress\.inbound_messages \(([^)]*)\)");
        Assert.True(insert.Success, "the store's statement inserts into ingress.inbound_messages");
        var written = insert.Groups[1].Value.Split(',').Select(column => column.Trim().Trim('"'));
        Assert.Equal(mapped.Order(), written.Order());
    }

    [Fact]
    public async Task Bad_input_is_a_clear_4xx_never_a_5xx()
    {
        using var client = ingress.CreateClient();
        using var json = await client.PostAsync("/webhooks/twilio/whatsapp", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);

        var missing = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "hola");
        missing.Remove("To");
        using var noTo = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", missing);
        Assert.Equal(HttpStatusCode.BadRequest, noTo.StatusCode);

        var huge = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, new string('a', 100_000));
        using var tooLarge = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(0, await ingress.StoredAsync(huge["MessageSid"]));

        // A NUL character (%00) in any field: refused by the form reader (Postgres could store none anyway).
        var nul = TwilioSigner.InboundForm(IngressService.AccountSid, NewCustomer(), Number, "Hola\0 quiero una cita");
        using var withNul = await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", nul);
        Assert.Equal(HttpStatusCode.BadRequest, withNul.StatusCode);
        Assert.Equal(0, await ingress.StoredAsync(nul["MessageSid"]));

        // A status callback whose fields cannot be Twilio's (a NUL, a SID too long or not letters and digits, a
        // status that is no word, an error code that is no number).
        foreach (var (sid, status, errorCode) in new[]
        {
            ("SM1\0", "delivered", ""), ("SM" + new string('a', 70), "delivered", ""), ("SM1'; --", "delivered", ""),
            ("SM1", "deliv ered", ""), ("SM1", "failed", "30008x"),
        })
        {
            var callback = new Dictionary<string, string> { ["MessageSid"] = sid, ["MessageStatus"] = status, ["AccountSid"] = IngressService.AccountSid };
            if (errorCode.Length > 0)
            {
                callback["ErrorCode"] = errorCode;
            }

            using var bad = await ingress.PostWebhookAsync("/webhooks/twilio/status", callback);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
    }

    private static string NewCustomer() => "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
}
