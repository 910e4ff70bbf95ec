using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <inheritdoc />
    public partial class CustomerWroteDuringReply : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "customer_wrote_during_reply",
                schema: "lead",
                table: "crm_conversations",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "customer_wrote_during_reply",
                schema: "lead",
                table: "crm_conversations");
        }
    }
}
