using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <inheritdoc />
    public partial class HandoffScoringSettings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "search_text",
                schema: "lead",
                table: "customer_leads",
                type: "character varying(800)",
                maxLength: 800,
                nullable: false,
                defaultValue: "");

            // Leads saved before: their folded search text (the service keeps it in step from now on).
            migrationBuilder.Sql("""
                UPDATE lead.customer_leads
                SET search_text = translate(lower(concat_ws(' ', name, phone, email)), 'áéíóúüñàèìòùâêîôûç', 'aeiouunaeiouaeiouc')
                """);

            migrationBuilder.AddColumn<string>(
                name: "handoff_reason",
                schema: "lead",
                table: "crm_conversations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "human_involved",
                schema: "lead",
                table: "crm_conversations",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "human_last_active_at",
                schema: "lead",
                table: "crm_conversations",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "idle_close_due_at",
                schema: "lead",
                table: "crm_conversations",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "owner_since",
                schema: "lead",
                table: "crm_conversations",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "release_due_at",
                schema: "lead",
                table: "crm_conversations",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "reply_due",
                schema: "lead",
                table: "crm_conversations",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "reply_in_flight_version",
                schema: "lead",
                table: "crm_conversations",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "void_replies_up_to",
                schema: "lead",
                table: "crm_conversations",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "content_sid",
                schema: "lead",
                table: "conversation_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "content_variables",
                schema: "lead",
                table: "conversation_messages",
                type: "character varying(4000)",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "lead_score_events",
                schema: "lead",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    lead_id = table.Column<string>(type: "text", nullable: false),
                    conversation_id = table.Column<string>(type: "text", nullable: true),
                    signal = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    description = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    points = table.Column<int>(type: "integer", nullable: false),
                    evidence = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    score_after = table.Column<int>(type: "integer", nullable: false),
                    grade_after = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_lead_score_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "lead_settings",
                schema: "lead",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    conversation_idle_seconds = table.Column<int>(type: "integer", nullable: false),
                    human_idle_release_seconds = table.Column<int>(type: "integer", nullable: false),
                    burst_window_seconds = table.Column<int>(type: "integer", nullable: false),
                    grade_a_threshold = table.Column<int>(type: "integer", nullable: false),
                    grade_b_threshold = table.Column<int>(type: "integer", nullable: false),
                    grade_c_threshold = table.Column<int>(type: "integer", nullable: false),
                    scoring_rules = table.Column<string>(type: "jsonb", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_lead_settings", x => x.tenant_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_crm_conversations_customer_lead_id",
                schema: "lead",
                table: "crm_conversations",
                column: "customer_lead_id");

            migrationBuilder.CreateIndex(
                name: "ix_lead_score_events_lead_id_conversation_id_signal",
                schema: "lead",
                table: "lead_score_events",
                columns: new[] { "lead_id", "conversation_id", "signal" });

            migrationBuilder.CreateIndex(
                name: "ix_lead_score_events_lead_id_occurred_at",
                schema: "lead",
                table: "lead_score_events",
                columns: new[] { "lead_id", "occurred_at" });

            // Conversations opened before idle closing existed get their idle timer (a due outbox row, as the gate
            // writes them): it fires at once and waits on until the tenant's idle time has passed.
            migrationBuilder.Sql("""
                INSERT INTO lead.outbox_messages (message_id, message_type, body, ordering_key, created_at, next_attempt_at, attempts)
                SELECT gen_random_uuid(), 'SafeNotify.Crm.Lead.Model.ConversationIdleCheckDue, Lead',
                       jsonb_build_object('tenantId', tenant_id, 'conversationId', id), 'due_' || id, now(), now(), 0
                FROM lead.crm_conversations WHERE status IN ('Active', 'WaitingHuman');
                UPDATE lead.crm_conversations SET idle_close_due_at = now() WHERE status IN ('Active', 'WaitingHuman');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "lead_score_events",
                schema: "lead");

            migrationBuilder.DropTable(
                name: "lead_settings",
                schema: "lead");

            migrationBuilder.DropIndex(
                name: "ix_crm_conversations_customer_lead_id",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "search_text",
                schema: "lead",
                table: "customer_leads");

            migrationBuilder.DropColumn(
                name: "handoff_reason",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "human_involved",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "human_last_active_at",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "idle_close_due_at",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "owner_since",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "release_due_at",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "reply_due",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "reply_in_flight_version",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "void_replies_up_to",
                schema: "lead",
                table: "crm_conversations");

            migrationBuilder.DropColumn(
                name: "content_sid",
                schema: "lead",
                table: "conversation_messages");

            migrationBuilder.DropColumn(
                name: "content_variables",
                schema: "lead",
                table: "conversation_messages");
        }
    }
}
