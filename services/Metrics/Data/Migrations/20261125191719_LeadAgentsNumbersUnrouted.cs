using System;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Metrics.Data.Migrations
{
    /// <summary>
    /// A lead's agent (that of its first conversation), the tenants' numbers as Routing describes them, and the messages
    /// no tenant answered; the two new tables under row-level security (an unanswered message to a number of no tenant
    /// has no tenant_id: only the cross-tenant role sees it).
    /// </summary>
    public partial class LeadAgentsNumbersUnrouted : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "agent_id",
                schema: "metrics",
                table: "lead_facts",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "first_conversation_at",
                schema: "metrics",
                table: "lead_facts",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "first_conversation_id",
                schema: "metrics",
                table: "lead_facts",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "tenant_numbers",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    number_id = table.Column<string>(type: "text", nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    deleted = table.Column<bool>(type: "boolean", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_numbers", x => new { x.tenant_id, x.number_id });
                });

            migrationBuilder.CreateTable(
                name: "unrouted_facts",
                schema: "metrics",
                columns: table => new
                {
                    inbound_message_id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: true),
                    reason = table.Column<string>(type: "text", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    day = table.Column<DateOnly>(type: "date", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_unrouted_facts", x => x.inbound_message_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_unrouted_facts_day",
                schema: "metrics",
                table: "unrouted_facts",
                column: "day");

            migrationBuilder.CreateIndex(
                name: "ix_unrouted_facts_tenant_id",
                schema: "metrics",
                table: "unrouted_facts",
                column: "tenant_id");

            migrationBuilder.EnableTenantIsolation(MetricsDbContext.Schema, "tenant_numbers");
            migrationBuilder.EnableTenantIsolation(MetricsDbContext.Schema, "unrouted_facts");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "tenant_numbers",
                schema: "metrics");

            migrationBuilder.DropTable(
                name: "unrouted_facts",
                schema: "metrics");

            migrationBuilder.DropColumn(
                name: "agent_id",
                schema: "metrics",
                table: "lead_facts");

            migrationBuilder.DropColumn(
                name: "first_conversation_at",
                schema: "metrics",
                table: "lead_facts");

            migrationBuilder.DropColumn(
                name: "first_conversation_id",
                schema: "metrics",
                table: "lead_facts");
        }
    }
}
