using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <inheritdoc />
    public partial class SendSequence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "send_sequence",
                schema: "lead",
                table: "crm_conversations",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "send_sequence",
                schema: "lead",
                table: "crm_conversations");
        }
    }
}
