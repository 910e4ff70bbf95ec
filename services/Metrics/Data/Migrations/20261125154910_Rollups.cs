using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Metrics.Data.Migrations
{
    /// <inheritdoc />
    public partial class Rollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Facts of the first shape carry no natural key and no conversation, so they cannot be keyed or attributed:
            // they go with the daily table they fed (nothing had been released on them).
            migrationBuilder.Sql("DELETE FROM metrics.metric_facts;");

            migrationBuilder.DropTable(
                name: "daily_metrics",
                schema: "metrics");

            migrationBuilder.DropIndex(
                name: "ix_metric_facts_tenant_id_day",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropColumn(
                name: "day",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.RenameColumn(
                name: "amount",
                schema: "metrics",
                table: "metric_facts",
                newName: "cost");

            migrationBuilder.AddColumn<string>(
                name: "agent_id",
                schema: "metrics",
                table: "metric_facts",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "conversation_id",
                schema: "metrics",
                table: "metric_facts",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "key",
                schema: "metrics",
                table: "metric_facts",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "number_id",
                schema: "metrics",
                table: "metric_facts",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "tokens",
                schema: "metrics",
                table: "metric_facts",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "conversation_facts",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    conversation_id = table.Column<string>(type: "text", nullable: false),
                    number_id = table.Column<string>(type: "text", nullable: true),
                    agent_id = table.Column<string>(type: "text", nullable: true),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    first_response_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    handed_off_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    closed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    outcome_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    outcome = table.Column<string>(type: "text", nullable: true),
                    satisfaction_rating = table.Column<int>(type: "integer", nullable: true),
                    conversion_value = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_conversation_facts", x => new { x.tenant_id, x.conversation_id });
                });

            migrationBuilder.CreateTable(
                name: "daily_rollups",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    dimension_kind = table.Column<string>(type: "character varying(10)", maxLength: 10, nullable: false),
                    dimension_id = table.Column<string>(type: "text", nullable: false),
                    new_conversations = table.Column<int>(type: "integer", nullable: false),
                    completed_conversations = table.Column<int>(type: "integer", nullable: false),
                    handed_off_conversations = table.Column<int>(type: "integer", nullable: false),
                    ai_resolved_conversations = table.Column<int>(type: "integer", nullable: false),
                    new_leads = table.Column<int>(type: "integer", nullable: false),
                    qualified_leads = table.Column<int>(type: "integer", nullable: false),
                    converted_leads = table.Column<int>(type: "integer", nullable: false),
                    customer_messages = table.Column<int>(type: "integer", nullable: false),
                    ai_messages = table.Column<int>(type: "integer", nullable: false),
                    human_messages = table.Column<int>(type: "integer", nullable: false),
                    total_tokens_used = table.Column<long>(type: "bigint", nullable: false),
                    estimated_ai_cost = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    first_responses = table.Column<int>(type: "integer", nullable: false),
                    first_response_ms_sum = table.Column<long>(type: "bigint", nullable: false),
                    first_response_histogram = table.Column<int[]>(type: "integer[]", nullable: false),
                    conversions = table.Column<int>(type: "integer", nullable: false),
                    revenue = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    ai_handled_revenue = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    satisfaction_ratings = table.Column<int>(type: "integer", nullable: false),
                    satisfaction_sum = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_daily_rollups", x => new { x.tenant_id, x.dimension_kind, x.dimension_id, x.day });
                });

            migrationBuilder.CreateTable(
                name: "lead_facts",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    lead_id = table.Column<string>(type: "text", nullable: false),
                    number_id = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    qualified_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    converted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_lead_facts", x => new { x.tenant_id, x.lead_id });
                });

            migrationBuilder.CreateTable(
                name: "tenant_agents",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    agent_id = table.Column<string>(type: "text", nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    deleted = table.Column<bool>(type: "boolean", nullable: false),
                    revision = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_agents", x => new { x.tenant_id, x.agent_id });
                });

            migrationBuilder.CreateIndex(
                name: "ix_metric_facts_tenant_id_conversation_id",
                schema: "metrics",
                table: "metric_facts",
                columns: new[] { "tenant_id", "conversation_id" });

            migrationBuilder.CreateIndex(
                name: "ix_metric_facts_tenant_id_kind_key",
                schema: "metrics",
                table: "metric_facts",
                columns: new[] { "tenant_id", "kind", "key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "conversation_facts",
                schema: "metrics");

            migrationBuilder.DropTable(
                name: "daily_rollups",
                schema: "metrics");

            migrationBuilder.DropTable(
                name: "lead_facts",
                schema: "metrics");

            migrationBuilder.DropTable(
                name: "tenant_agents",
                schema: "metrics");

            migrationBuilder.DropIndex(
                name: "ix_metric_facts_tenant_id_conversation_id",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropIndex(
                name: "ix_metric_facts_tenant_id_kind_key",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropColumn(
                name: "agent_id",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropColumn(
                name: "conversation_id",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropColumn(
                name: "key",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropColumn(
                name: "number_id",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.DropColumn(
                name: "tokens",
                schema: "metrics",
                table: "metric_facts");

            migrationBuilder.RenameColumn(
                name: "cost",
                schema: "metrics",
                table: "metric_facts",
                newName: "amount");

            migrationBuilder.AddColumn<DateOnly>(
                name: "day",
                schema: "metrics",
                table: "metric_facts",
                type: "date",
                nullable: false,
                defaultValue: new DateOnly(1, 1, 1));

            migrationBuilder.CreateTable(
                name: "daily_metrics",
                schema: "metrics",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    ai_messages = table.Column<int>(type: "integer", nullable: false),
                    customer_messages = table.Column<int>(type: "integer", nullable: false),
                    estimated_ai_cost = table.Column<decimal>(type: "numeric(18,6)", precision: 18, scale: 6, nullable: false),
                    handoffs = table.Column<int>(type: "integer", nullable: false),
                    human_messages = table.Column<int>(type: "integer", nullable: false),
                    new_conversations = table.Column<int>(type: "integer", nullable: false),
                    new_leads = table.Column<int>(type: "integer", nullable: false),
                    total_messages = table.Column<int>(type: "integer", nullable: false),
                    total_tokens_used = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_daily_metrics", x => new { x.tenant_id, x.day });
                });

            migrationBuilder.CreateIndex(
                name: "ix_metric_facts_tenant_id_day",
                schema: "metrics",
                table: "metric_facts",
                columns: new[] { "tenant_id", "day" });
        }
    }
}
