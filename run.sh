#!/usr/bin/env bash
# Runs the whole SafeNotify CRM: Postgres, RabbitMQ, the five services, the gateway, the Aspire
# dashboard, demo data, and the Twilio stand-in when no Twilio credentials are set.
# The configuration contract's variables (Twilio__*, AI__*, Crm__OperatorApiKey, Gateway__Port) pass through.
set -euo pipefail
cd "$(dirname "$0")"

./AppHost/infra/prerequisites.sh
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Release, like a deployment and the benchmarks: what a user starts is what was measured.
exec dotnet run -c Release --project AppHost --launch-profile http -- "$@"
