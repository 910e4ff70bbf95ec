using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>An owner's changes to the business's staff, through the console's directory, over a real database.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class StaffManagementTests(ConsoleService console)
{
    private const string Password = "una contraseña larga";

    [Fact]
    public async Task A_disabled_member_is_signed_out_of_every_browser_and_cannot_sign_in_until_enabled()
    {
        var tenantId = await console.TenantAsync();
        var ownerEmail = await console.MemberAsync(tenantId, "OWNER", Password, "Dueña");
        var advisorEmail = await console.MemberAsync(tenantId, "AGENT", Password, "Asesor");
        using var advisorBrowser = console.NewBrowser();
        using (await advisorBrowser.SignInAsync(advisorEmail, Password))
        {
        }

        var staff = await WithDirectoryAsync(directory => directory.StaffOfAsync(tenantId, CancellationToken.None));
        var (owner, advisor) = (staff.Single(a => a.Email == ownerEmail), staff.Single(a => a.Email == advisorEmail));
        Assert.Null(await WithDirectoryAsync(directory => directory.ManageAsync(tenantId, null, s => s.Disable(owner.Id, advisor.Id), CancellationToken.None)));

        using (var home = await advisorBrowser.Http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        }

        using (var refused = await console.NewBrowser().SignInAsync(advisorEmail, Password))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode); // the form again, with its message
        }

        Assert.Null(await WithDirectoryAsync(directory => directory.ManageAsync(tenantId, null, s => s.Enable(advisor.Id), CancellationToken.None)));
        using var signedIn = await console.NewBrowser().SignInAsync(advisorEmail, Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
    }

    [Fact]
    public async Task An_owner_of_one_business_cannot_reach_another_businesss_staff()
    {
        var tenantId = await console.TenantAsync();
        var otherTenant = await console.TenantAsync("Restaurante La Plaza");
        var ownerEmail = await console.MemberAsync(tenantId, "OWNER", Password, "Dueña");
        var strangerEmail = await console.MemberAsync(otherTenant, "AGENT", Password, "Ajeno");
        var stranger = (await WithDirectoryAsync(directory => directory.StaffOfAsync(otherTenant, CancellationToken.None))).Single(a => a.Email == strangerEmail);
        var owner = (await WithDirectoryAsync(directory => directory.StaffOfAsync(tenantId, CancellationToken.None))).Single(a => a.Email == ownerEmail);

        var refused = await WithDirectoryAsync(directory => directory.ManageAsync(tenantId, null, s => s.Disable(owner.Id, stranger.Id), CancellationToken.None));

        Assert.Equal("There is no such member of this business.", refused);
        Assert.DoesNotContain(await WithDirectoryAsync(directory => directory.StaffOfAsync(tenantId, CancellationToken.None)), a => a.Email == strangerEmail);
        using var signedIn = await console.NewBrowser().SignInAsync(strangerEmail, Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode); // untouched
    }

    [Fact]
    public async Task Each_change_to_the_staff_names_the_owner_in_the_audit_and_tells_the_services_who_the_members_are()
    {
        var tenantId = await console.TenantAsync();
        var ownerEmail = await console.MemberAsync(tenantId, "OWNER", Password, "Dueña");
        var advisorEmail = await console.MemberAsync(tenantId, "AGENT", Password, "Asesor Uno");
        var staff = await WithDirectoryAsync(directory => directory.StaffOfAsync(tenantId, CancellationToken.None));
        var (owner, advisor) = (staff.Single(a => a.Email == ownerEmail), staff.Single(a => a.Email == advisorEmail));
        var actor = CallerIdentity.Member(tenantId, TenantRole.Owner, owner.Id, "Dueña");

        Assert.Null(await WithDirectoryAsync(directory => directory.ManageAsync(tenantId, actor, s => s.ChangeRole(owner.Id, advisor.Id, StaffRole.Admin), CancellationToken.None)));
        Assert.Null(await WithDirectoryAsync(directory => directory.ManageAsync(tenantId, actor, s => s.Disable(owner.Id, advisor.Id), CancellationToken.None)));
        var invited = await WithDirectoryAsync(directory => directory.InviteAsync(tenantId, "nueva@clinica.example", "Nueva", StaffRole.Agent, actor, CancellationToken.None));

        var audited = await console.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.ActorStaffId == owner.Id);
        Assert.Equal([(AuditActions.StaffRoleChanged, advisor.Id, "role agent → admin"), (AuditActions.StaffDisabled, advisor.Id, "disabled"),
            (AuditActions.StaffInvited, ((InvitationResult.Invited)invited).Account.Id, "invited as agent")],
            audited.Select(a => (a.Action, a.TargetId, a.Detail)));
        Assert.All(audited, a => Assert.Equal((CallerIdentity.OwnerRole, "Dueña", "webapp"), (a.ActorRole, a.ActorStaffName, a.Service)));

        // Joining, the new role and the disabling each reach the services, in order; nobody who has not joined yet.
        var members = await console.PublishedAsync<StaffMemberChanged>(m => m.TenantId == tenantId);
        Assert.Equal([(owner.Id, "owner", true), (advisor.Id, "agent", true), (advisor.Id, "admin", true), (advisor.Id, "admin", false)],
            members.Select(m => (m.StaffId, m.Role, m.Active)));
        Assert.Equal("Asesor Uno", members[^1].DisplayName);
    }

    private async Task<T> WithDirectoryAsync<T>(Func<StaffDirectory, Task<T>> work)
    {
        await using var scope = console.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<StaffDirectory>());
    }
}
