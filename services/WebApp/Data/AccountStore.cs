using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Data;

/// <summary>How the console finds and locks accounts.</summary>
public static class AccountStore
{
    /// <summary>
    /// The account of <paramref name="email"/> (normalized), locked until the transaction ends, so two attempts at once
    /// are counted one after the other. Signing in is where the tenant is learnt: run it across tenants.
    /// </summary>
    public static Task<StaffAccount?> LockByEmailAsync(this WebAppDbContext db, string email, CancellationToken cancellationToken)
    {
        // The table and column names come from the EF model; the address is a parameter.
        var sql = $"SELECT * FROM {db.TableOf<StaffAccount>()} WHERE {db.ColumnOf<StaffAccount>(a => a.Email)} = {{0}} FOR UPDATE";
        return db.Accounts.FromSqlRaw(sql, email).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The account <paramref name="accountId"/>, locked until the transaction ends; an operator's only across tenants.</summary>
    public static Task<StaffAccount?> LockByIdAsync(this WebAppDbContext db, string accountId, CancellationToken cancellationToken)
    {
        var sql = $"SELECT * FROM {db.TableOf<StaffAccount>()} WHERE {db.ColumnOf<StaffAccount>(a => a.Id)} = {{0}} FOR UPDATE";
        return db.Accounts.FromSqlRaw(sql, accountId).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The account whose pending invitation hashes to <paramref name="invitationHash"/>, locked; run it across tenants.</summary>
    public static Task<StaffAccount?> LockByInvitationAsync(this WebAppDbContext db, string invitationHash, CancellationToken cancellationToken)
    {
        var sql = $"SELECT * FROM {db.TableOf<StaffAccount>()} WHERE {db.ColumnOf<StaffAccount>(a => a.InvitationHash)} = {{0}} FOR UPDATE";
        return db.Accounts.FromSqlRaw(sql, invitationHash).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>The account whose pending password reset hashes to <paramref name="resetHash"/>, locked; run it across tenants.</summary>
    public static Task<StaffAccount?> LockByPasswordResetAsync(this WebAppDbContext db, string resetHash, CancellationToken cancellationToken)
    {
        var sql = $"SELECT * FROM {db.TableOf<StaffAccount>()} WHERE {db.ColumnOf<StaffAccount>(a => a.PasswordResetHash)} = {{0}} FOR UPDATE";
        return db.Accounts.FromSqlRaw(sql, resetHash).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Holds off every other writer of accounts until the transaction ends (the first operator is created once).</summary>
    public static Task LockAccountsAsync(this WebAppDbContext db, CancellationToken cancellationToken)
    {
        var sql = "LOCK TABLE " + db.TableOf<StaffAccount>() + " IN SHARE ROW EXCLUSIVE MODE"; // the name comes from the EF model
        return db.Database.ExecuteSqlRawAsync(sql, cancellationToken);
    }

    /// <summary>Every account of the tenant, locked until the transaction ends.</summary>
    public static async Task<IReadOnlyList<StaffAccount>> LockStaffOfAsync(this WebAppDbContext db, string tenantId, CancellationToken cancellationToken)
    {
        var sql = $"SELECT * FROM {db.TableOf<StaffAccount>()} WHERE {db.ColumnOf<StaffAccount>(a => a.TenantId)} = {{0}} ORDER BY {db.ColumnOf<StaffAccount>(a => a.Id)} FOR UPDATE";
        return await db.Accounts.FromSqlRaw(sql, tenantId).ToListAsync(cancellationToken);
    }
}
