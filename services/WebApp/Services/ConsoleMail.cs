using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using MimeKit;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>The mail server the console sends invitations and password reset links through (Smtp__*); none by default.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender's address, such as no-reply@yourcompany.example.</summary>
    public string? From { get; set; }

    public string FromName { get; set; } = "SafeNotify CRM";

    /// <summary>Auto (STARTTLS when the server offers it), StartTls, SslOnConnect or None.</summary>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host) && !string.IsNullOrWhiteSpace(From);
}

/// <summary>
/// Mails a person their one-time link (an invitation, a password reset) when a mail server is configured, in the language
/// of the console that made it. A link that could not be mailed is shown to whoever made it instead: nobody is left
/// without one. The link is never logged.
/// </summary>
public sealed class ConsoleMail(IOptions<SmtpOptions> options, IStringLocalizer<ConsoleText> text, ILogger<ConsoleMail> logger)
{
    public bool IsConfigured => options.Value.IsConfigured;

    public Task<bool> SendInvitationAsync(StaffAccount to, string link, CancellationToken cancellationToken) =>
        SendAsync(to, text["Your invitation to SafeNotify CRM"],
            text["Hello {0}, you are invited to SafeNotify CRM. Choose your password here; the link works once, for 72 hours: {1}", to.DisplayName, link],
            cancellationToken);

    public Task<bool> SendPasswordResetAsync(StaffAccount to, string link, CancellationToken cancellationToken) =>
        SendAsync(to, text["Choose a new password for SafeNotify CRM"],
            text["Hello {0}, choose a new password here; the link works once, for an hour: {1}", to.DisplayName, link],
            cancellationToken);

    private async Task<bool> SendAsync(StaffAccount to, string subject, string body, CancellationToken cancellationToken)
    {
        var smtp = options.Value;
        if (smtp is not { IsConfigured: true, Host: { } host, From: { } from })
        {
            return false;
        }

        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = body } };
        message.From.Add(new MailboxAddress(smtp.FromName, from));
        message.To.Add(new MailboxAddress(to.DisplayName, to.Email));
        try
        {
            using var client = new SmtpClient();
            await client.ConnectAsync(host, smtp.Port, smtp.Security, cancellationToken);
            if (!string.IsNullOrEmpty(smtp.Username))
            {
                await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", cancellationToken);
            }

            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("The console could not mail account {AccountId} through {Host}: {Reason}", to.Id, smtp.Host, e.Message);
            return false;
        }
    }
}
