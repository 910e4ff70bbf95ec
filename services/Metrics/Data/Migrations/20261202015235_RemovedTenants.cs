using System;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Metrics.Data.Migrations
{
    /// <summary>
    /// The tenants removed by a rolled-back migration, so that news of them arriving late brings nothing back;
    /// under row-level security like every tenant table.
    /// </summary>
    public partial class RemovedTenants : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "removed_tenants",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    removed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_removed_tenants", x => x.tenant_id);
                });

            migrationBuilder.EnableTenantIsolation(MetricsDbContext.Schema, "removed_tenants");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "removed_tenants",
                schema: "metrics");
        }
    }
}
