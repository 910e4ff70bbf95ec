using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "lead");

            migrationBuilder.CreateTable(
                name: "conversation_messages",
                schema: "lead",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    conversation_id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    author = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    agent_id = table.Column<string>(type: "text", nullable: true),
                    employee_id = table.Column<string>(type: "text", nullable: true),
                    body = table.Column<string>(type: "text", nullable: true),
                    media = table.Column<string>(type: "jsonb", nullable: false),
                    inbound_message_id = table.Column<string>(type: "text", nullable: true),
                    sequence = table.Column<long>(type: "bigint", nullable: true),
                    answers_sequence = table.Column<long>(type: "bigint", nullable: true),
                    delivery_status = table.Column<string>(type: "text", nullable: true),
                    twilio_sid = table.Column<string>(type: "text", nullable: true),
                    error_code = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_conversation_messages", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "crm_conversations",
                schema: "lead",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    customer_lead_id = table.Column<string>(type: "text", nullable: false),
                    whatsapp_number_id = table.Column<string>(type: "text", nullable: false),
                    number_phone = table.Column<string>(type: "text", nullable: false),
                    account_sid = table.Column<string>(type: "text", nullable: false),
                    customer_id = table.Column<string>(type: "text", nullable: false),
                    session_id = table.Column<string>(type: "text", nullable: false),
                    customer_phone = table.Column<string>(type: "text", nullable: true),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    current_step = table.Column<string>(type: "text", nullable: false),
                    priority = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    current_agent_id = table.Column<string>(type: "text", nullable: true),
                    agent_reason = table.Column<string>(type: "text", nullable: true),
                    message_count = table.Column<int>(type: "integer", nullable: false),
                    first_response_time = table.Column<int>(type: "integer", nullable: true),
                    avg_response_time = table.Column<double>(type: "double precision", nullable: true),
                    last_message_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    requires_attention = table.Column<bool>(type: "boolean", nullable: false),
                    assigned_to_user = table.Column<string>(type: "text", nullable: true),
                    tags = table.Column<List<string>>(type: "text[]", nullable: false),
                    category = table.Column<string>(type: "text", nullable: true),
                    intent = table.Column<string>(type: "text", nullable: true),
                    satisfaction_rating = table.Column<int>(type: "integer", nullable: true),
                    outcome = table.Column<string>(type: "text", nullable: true),
                    conversion_value = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    internal_notes = table.Column<string>(type: "text", nullable: true),
                    owner = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ownership_version = table.Column<int>(type: "integer", nullable: false),
                    last_customer_sequence = table.Column<long>(type: "bigint", nullable: false),
                    last_customer_message_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    first_customer_message_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    reply_in_flight_up_to = table.Column<long>(type: "bigint", nullable: true),
                    last_replied_sequence = table.Column<long>(type: "bigint", nullable: false),
                    replies_sent = table.Column<int>(type: "integer", nullable: false),
                    out_of_hours_notice_sent = table.Column<bool>(type: "boolean", nullable: false),
                    opened_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    closed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_crm_conversations", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "customer_leads",
                schema: "lead",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    customer_id = table.Column<string>(type: "text", nullable: true),
                    phone = table.Column<string>(type: "text", nullable: true),
                    name = table.Column<string>(type: "text", nullable: true),
                    email = table.Column<string>(type: "text", nullable: true),
                    company = table.Column<string>(type: "text", nullable: true),
                    customer_type = table.Column<string>(type: "text", nullable: true),
                    business_category = table.Column<string>(type: "text", nullable: true),
                    tags = table.Column<List<string>>(type: "text[]", nullable: false),
                    qualification_score = table.Column<int>(type: "integer", nullable: false),
                    lead_status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    lead_grade = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: false),
                    last_purchase = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    total_spent = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    preferences = table.Column<string>(type: "jsonb", nullable: true),
                    source = table.Column<string>(type: "text", nullable: true),
                    assigned_to = table.Column<string>(type: "text", nullable: true),
                    last_activity = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    next_follow_up = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    internal_notes = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_customer_leads", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "inbox_messages",
                schema: "lead",
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
                name: "outbox_messages",
                schema: "lead",
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

            migrationBuilder.CreateIndex(
                name: "ix_conversation_messages_conversation_id_created_at",
                schema: "lead",
                table: "conversation_messages",
                columns: new[] { "conversation_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_conversation_messages_inbound_message_id",
                schema: "lead",
                table: "conversation_messages",
                column: "inbound_message_id",
                unique: true,
                filter: "inbound_message_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_conversation_messages_twilio_sid",
                schema: "lead",
                table: "conversation_messages",
                column: "twilio_sid");

            migrationBuilder.CreateIndex(
                name: "ix_crm_conversations_one_open",
                schema: "lead",
                table: "crm_conversations",
                columns: new[] { "tenant_id", "whatsapp_number_id", "customer_id" },
                unique: true,
                filter: "status IN ('Active', 'WaitingHuman')");

            migrationBuilder.CreateIndex(
                name: "ix_crm_conversations_session_id",
                schema: "lead",
                table: "crm_conversations",
                column: "session_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_crm_conversations_tenant_id_last_message_at",
                schema: "lead",
                table: "crm_conversations",
                columns: new[] { "tenant_id", "last_message_at" });

            migrationBuilder.CreateIndex(
                name: "ix_customer_leads_tenant_id_customer_id",
                schema: "lead",
                table: "customer_leads",
                columns: new[] { "tenant_id", "customer_id" },
                unique: true,
                filter: "customer_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_customer_leads_tenant_id_phone",
                schema: "lead",
                table: "customer_leads",
                columns: new[] { "tenant_id", "phone" });

            migrationBuilder.CreateIndex(
                name: "ix_inbox_messages_processed_at",
                schema: "lead",
                table: "inbox_messages",
                column: "processed_at");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_dispatched_at",
                schema: "lead",
                table: "outbox_messages",
                column: "dispatched_at");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_message_id",
                schema: "lead",
                table: "outbox_messages",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_pending",
                schema: "lead",
                table: "outbox_messages",
                columns: new[] { "ordering_key", "sequence" },
                filter: "dispatched_at IS NULL AND failed_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "conversation_messages",
                schema: "lead");

            migrationBuilder.DropTable(
                name: "crm_conversations",
                schema: "lead");

            migrationBuilder.DropTable(
                name: "customer_leads",
                schema: "lead");

            migrationBuilder.DropTable(
                name: "inbox_messages",
                schema: "lead");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "lead");
        }
    }
}
