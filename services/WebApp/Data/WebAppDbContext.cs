using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Data;

public sealed class WebAppDbContext(DbContextOptions<WebAppDbContext> options) : MessagingDbContext(options, Schema), IDataProtectionKeyContext
{
    public const string Schema = "webapp";

    public DbSet<StaffAccount> Accounts => Set<StaffAccount>();
    public DbSet<ConsoleTenant> Tenants => Set<ConsoleTenant>();

    /// <summary>The console's Data Protection key ring (it seals session cookies and form tokens), shared by every instance.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<StaffAccount>(account =>
        {
            account.ToTable("staff_accounts");
            account.HasKey(a => a.Id);
            account.Property(a => a.Id).HasMaxLength(40);
            account.Property(a => a.TenantId).HasMaxLength(40);
            account.Property(a => a.Email).HasMaxLength(254);
            account.HasIndex(a => a.Email).IsUnique();
            account.HasIndex(a => a.TenantId);
            account.Property(a => a.DisplayName).HasMaxLength(100);
            account.Property(a => a.Role).HasConversion<string>().HasMaxLength(20);
            account.Property(a => a.InvitationHash).HasMaxLength(64);
            account.HasIndex(a => a.InvitationHash).IsUnique();
            account.Property(a => a.AuthenticatorKey).HasMaxLength(64);
            account.Property(a => a.PasswordResetHash).HasMaxLength(64);
            account.HasIndex(a => a.PasswordResetHash).IsUnique();
        });

        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");

        modelBuilder.Entity<ConsoleTenant>(tenant =>
        {
            tenant.ToTable("tenants");
            tenant.HasKey(t => t.TenantId);
            tenant.Property(t => t.TenantId).HasMaxLength(40);
            tenant.Property(t => t.Name).HasMaxLength(200);
        });
    }
}
