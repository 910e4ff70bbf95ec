#!/usr/bin/env bash
# Runs Debian's RabbitMQ server as a private node for SafeNotify CRM (no Docker needed).
# Started by the AppHost as an executable resource, and by the test fixtures.
#
#   RABBITMQ_STATE_DIR   folder of this node (queues and users kept there between runs)
#   RABBITMQ_NODE_PORT   AMQP port on 127.0.0.1 (Aspire injects it)
#   RABBITMQ_DIST_PORT   Erlang distribution port (must be free; the default overflows with high AMQP ports)
#   RABBITMQ_USER, RABBITMQ_PASSWORD   the account the services use (created on the node's first start)
set -euo pipefail

: "${RABBITMQ_STATE_DIR:?RABBITMQ_STATE_DIR is required}"
: "${RABBITMQ_NODE_PORT:?RABBITMQ_NODE_PORT is required}"
: "${RABBITMQ_DIST_PORT:?RABBITMQ_DIST_PORT is required}"
: "${RABBITMQ_USER:?RABBITMQ_USER is required}"
: "${RABBITMQ_PASSWORD:?RABBITMQ_PASSWORD is required}"

source "$(dirname "${BASH_SOURCE[0]}")/test-watchdog.sh"
source "$(dirname "${BASH_SOURCE[0]}")/predecessor.sh"

server=/usr/lib/rabbitmq/bin/rabbitmq-server
if [ ! -x "$server" ]; then
  echo "RabbitMQ not found: install the 'rabbitmq-server' package (./run.sh and ./test.sh do)." >&2
  exit 1
fi

state=$(cd "$RABBITMQ_STATE_DIR" 2>/dev/null && pwd || { mkdir -p "$RABBITMQ_STATE_DIR" && cd "$RABBITMQ_STATE_DIR" && pwd; })
mkdir -p "$state/home" "$state/mnesia" "$state/log"

# A node name of its own, so several instances (a developer's run and a test run) never meet.
node_id=$(printf '%s' "$state" | cksum | cut -d' ' -f1)
export RABBITMQ_NODENAME="safenotify-$node_id@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_MNESIA_BASE="$state/mnesia"
export RABBITMQ_LOG_BASE="$state/log"
export RABBITMQ_LOGS=-
export RABBITMQ_PID_FILE="$state/rabbitmq.pid"
export RABBITMQ_CONFIG_FILE="$state/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$state/enabled_plugins"
export RABBITMQ_ADVANCED_CONFIG_FILE="$state/advanced.config"
export RABBITMQ_CONF_ENV_FILE="$state/rabbitmq-env.conf"
export HOME="$state/home"   # the Erlang cookie lives here, private to this node

: > "$RABBITMQ_CONF_ENV_FILE"
[ -f "$RABBITMQ_ADVANCED_CONFIG_FILE" ] || echo '[].' > "$RABBITMQ_ADVANCED_CONFIG_FILE"
[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
cat > "$RABBITMQ_CONFIG_FILE" <<CONF
default_user = $RABBITMQ_USER
default_pass = $RABBITMQ_PASSWORD
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
disk_free_limit.absolute = 50MB
log.console.level = warning
CONF
chmod 600 "$RABBITMQ_CONFIG_FILE"

wait_for_predecessor "$RABBITMQ_PID_FILE" "$state/home"
exec "$server"
