using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using netDumbster.smtp;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>
/// With a mail server configured, a person's one-time link reaches them by mail, in the language of the console that
/// made it, through MailKit talking SMTP to a local server; without one, or with one that does not answer, nothing is
/// sent and the link is shown instead.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleMailTests(ConsoleService console)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task An_invitation_is_mailed_to_the_person_in_the_consoles_language_with_its_link()
    {
        var port = FreePort();
        using var server = SimpleSmtpServer.Start(port);
        var mail = Mail(new SmtpOptions { Host = "127.0.0.1", Port = port, From = "no-reply@safenotify.example", Security = MailKit.Security.SecureSocketOptions.None });
        var invited = StaffAccount.Invite("staff_mail", "tnt_mail", "lucia@clinica.example", "Lucía Gómez", StaffRole.Agent, "hash", Now);
        const string link = "https://crm.example/invitation/un-token-de-prueba";

        var previous = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = new CultureInfo("es");
        bool sent;
        try
        {
            sent = await mail.SendInvitationAsync(invited, link, CancellationToken.None);
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }

        Assert.True(sent);
        var received = Assert.Single(server.ReceivedEmail);
        Assert.Equal("lucia@clinica.example", Assert.Single(received.ToAddresses).Address);
        Assert.Equal("no-reply@safenotify.example", received.FromAddress.Address);
        // SMTP doubles a dot that starts a line (RFC 5321, 4.5.2) and the receiver removes it; this test server leaves it in.
        var data = received.Data.Replace("\n..", "\n.", StringComparison.Ordinal);
        var message = MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(data)));
        Assert.Equal("Su invitación a SafeNotify CRM", message.Subject);
        Assert.Contains("Hola, Lucía Gómez", message.TextBody, StringComparison.Ordinal);
        Assert.Contains(link, message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_mail_server_or_with_one_that_does_not_answer_nothing_is_sent_and_the_link_is_shown_instead()
    {
        var invited = StaffAccount.Invite("staff_mail_2", "tnt_mail", "andres@clinica.example", "Andrés", StaffRole.Agent, "hash", Now);
        Assert.False(Mail(new SmtpOptions()).IsConfigured);
        Assert.False(await Mail(new SmtpOptions()).SendInvitationAsync(invited, "https://crm.example/invitation/x", CancellationToken.None));

        var nobody = Mail(new SmtpOptions { Host = "127.0.0.1", Port = FreePort(), From = "no-reply@safenotify.example", Security = MailKit.Security.SecureSocketOptions.None });
        Assert.True(nobody.IsConfigured);
        Assert.False(await nobody.SendPasswordResetAsync(invited, "https://crm.example/password-reset/x", CancellationToken.None));
    }

    private ConsoleMail Mail(SmtpOptions options) =>
        new(Options.Create(options), console.Services.GetRequiredService<IStringLocalizer<ConsoleText>>(), NullLogger<ConsoleMail>.Instance);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
