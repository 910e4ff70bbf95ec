using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.WebApp.Data.Migrations
{
    /// <inheritdoc />
    public partial class AuthenticatorApps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "authenticator_key",
                schema: "webapp",
                table: "staff_accounts",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "last_authenticator_step",
                schema: "webapp",
                table: "staff_accounts",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "authenticator_key",
                schema: "webapp",
                table: "staff_accounts");

            migrationBuilder.DropColumn(
                name: "last_authenticator_step",
                schema: "webapp",
                table: "staff_accounts");
        }
    }
}
