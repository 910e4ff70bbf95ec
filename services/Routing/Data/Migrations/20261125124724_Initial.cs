using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace SafeNotify.Crm.Routing.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "routing");

            migrationBuilder.CreateTable(
                name: "api_keys",
                schema: "routing",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "inbox_messages",
                schema: "routing",
                columns: table => new
                {
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    consumer = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    processed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_inbox_messages", x => new { x.message_id, x.consumer });
                });

            migrationBuilder.CreateTable(
                name: "known_agents",
                schema: "routing",
                columns: table => new
                {
                    agent_id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    is_default = table.Column<bool>(type: "boolean", nullable: false),
                    trigger_keywords = table.Column<List<string>>(type: "text[]", nullable: false),
                    active_hours = table.Column<string>(type: "jsonb", nullable: true),
                    out_of_hours_message = table.Column<string>(type: "text", nullable: true),
                    deleted = table.Column<bool>(type: "boolean", nullable: false),
                    revision = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_known_agents", x => x.agent_id);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "routing",
                columns: table => new
                {
                    sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    message_id = table.Column<Guid>(type: "uuid", nullable: false),
                    message_type = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    body = table.Column<string>(type: "jsonb", nullable: false),
                    ordering_key = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    trace_parent = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    trace_state = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    dispatched_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    failed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    last_error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_outbox_messages", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "tenants",
                schema: "routing",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    safe_notify_user_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    crm_enabled = table.Column<bool>(type: "boolean", nullable: false),
                    crm_plan = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    max_agents = table.Column<int>(type: "integer", nullable: true),
                    max_whatsapp_numbers = table.Column<int>(type: "integer", nullable: false),
                    timezone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenants", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "unrouted_messages",
                schema: "routing",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    message_sid = table.Column<string>(type: "text", nullable: false),
                    account_sid = table.Column<string>(type: "text", nullable: false),
                    to = table.Column<string>(type: "text", nullable: false),
                    customer_id = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: true),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_unrouted_messages", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "whatsapp_numbers",
                schema: "routing",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    phone_number = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    display_name = table.Column<string>(type: "text", nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    is_primary = table.Column<bool>(type: "boolean", nullable: false),
                    webhook_url = table.Column<string>(type: "text", nullable: true),
                    twilio_sid = table.Column<string>(type: "text", nullable: true),
                    business_hours = table.Column<string>(type: "jsonb", nullable: true),
                    timezone = table.Column<string>(type: "text", nullable: false),
                    auto_reply = table.Column<bool>(type: "boolean", nullable: false),
                    default_agent_id = table.Column<string>(type: "text", nullable: true),
                    total_messages = table.Column<int>(type: "integer", nullable: false),
                    total_leads = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_whatsapp_numbers", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_hash",
                schema: "routing",
                table: "api_keys",
                column: "hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_tenant_id",
                schema: "routing",
                table: "api_keys",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_inbox_messages_processed_at",
                schema: "routing",
                table: "inbox_messages",
                column: "processed_at");

            migrationBuilder.CreateIndex(
                name: "ix_known_agents_tenant_id",
                schema: "routing",
                table: "known_agents",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_dispatched_at",
                schema: "routing",
                table: "outbox_messages",
                column: "dispatched_at");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_message_id",
                schema: "routing",
                table: "outbox_messages",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_pending",
                schema: "routing",
                table: "outbox_messages",
                columns: new[] { "ordering_key", "sequence" },
                filter: "dispatched_at IS NULL AND failed_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_tenants_safe_notify_user_id",
                schema: "routing",
                table: "tenants",
                column: "safe_notify_user_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_unrouted_messages_received_at",
                schema: "routing",
                table: "unrouted_messages",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_whatsapp_numbers_one_primary",
                schema: "routing",
                table: "whatsapp_numbers",
                column: "tenant_id",
                unique: true,
                filter: "is_primary");

            migrationBuilder.CreateIndex(
                name: "ix_whatsapp_numbers_phone_number",
                schema: "routing",
                table: "whatsapp_numbers",
                column: "phone_number",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_keys",
                schema: "routing");

            migrationBuilder.DropTable(
                name: "inbox_messages",
                schema: "routing");

            migrationBuilder.DropTable(
                name: "known_agents",
                schema: "routing");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "routing");

            migrationBuilder.DropTable(
                name: "tenants",
                schema: "routing");

            migrationBuilder.DropTable(
                name: "unrouted_messages",
                schema: "routing");

            migrationBuilder.DropTable(
                name: "whatsapp_numbers",
                schema: "routing");
        }
    }
}
