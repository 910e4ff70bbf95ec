using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace SafeNotify.Crm.Agent.Data.Migrations
{
    /// <inheritdoc />
    public partial class PromptEvolutionAndUsage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_evolved_at",
                schema: "agent",
                table: "ai_agents",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "messages_since_evolution",
                schema: "agent",
                table: "ai_agents",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<bool>(
                name: "prompt_pinned",
                schema: "agent",
                table: "ai_agents",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "agent_conversations",
                schema: "agent",
                columns: table => new
                {
                    agent_id = table.Column<string>(type: "text", nullable: false),
                    conversation_id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    last_sequence = table.Column<long>(type: "bigint", nullable: false),
                    prompt_version = table.Column<int>(type: "integer", nullable: true),
                    satisfaction_rating = table.Column<int>(type: "integer", nullable: true),
                    first_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_conversations", x => new { x.agent_id, x.conversation_id });
                });

            migrationBuilder.CreateTable(
                name: "question_samples",
                schema: "agent",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    agent_id = table.Column<string>(type: "text", nullable: false),
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    text = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    topics = table.Column<List<string>>(type: "text[]", nullable: false),
                    conversation_id = table.Column<string>(type: "text", nullable: true),
                    needed_human = table.Column<bool>(type: "boolean", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_question_samples", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_agent_conversations_tenant_id_conversation_id",
                schema: "agent",
                table: "agent_conversations",
                columns: new[] { "tenant_id", "conversation_id" });

            migrationBuilder.CreateIndex(
                name: "ix_question_samples_agent_id_id",
                schema: "agent",
                table: "question_samples",
                columns: new[] { "agent_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agent_conversations",
                schema: "agent");

            migrationBuilder.DropTable(
                name: "question_samples",
                schema: "agent");

            migrationBuilder.DropColumn(
                name: "last_evolved_at",
                schema: "agent",
                table: "ai_agents");

            migrationBuilder.DropColumn(
                name: "messages_since_evolution",
                schema: "agent",
                table: "ai_agents");

            migrationBuilder.DropColumn(
                name: "prompt_pinned",
                schema: "agent",
                table: "ai_agents");
        }
    }
}
