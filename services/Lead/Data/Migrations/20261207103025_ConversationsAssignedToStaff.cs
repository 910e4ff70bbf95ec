using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <inheritdoc />
    public partial class ConversationsAssignedToStaff : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "assigned_staff_id",
                schema: "lead",
                table: "crm_conversations",
                type: "character varying(40)",
                maxLength: 40,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "assigned_staff_id",
                schema: "lead",
                table: "crm_conversations");
        }
    }
}
