#!/usr/bin/env bash
# Runs Debian's PostgreSQL server as a private instance for SafeNotify CRM (no Docker needed).
# Started by the AppHost as an executable resource, and by the test fixtures.
#
#   PG_STATE_DIR           folder of this instance (data kept there between runs)
#   PGPORT                 port on 127.0.0.1 (Aspire injects it)
#   PG_SUPERUSER_PASSWORD  password of the 'postgres' superuser (set again at every start)
#   PG_MAX_CONNECTIONS     default 500: room for every service instance's bounded pools (20 through EF, 8 direct), replicas included
#   PG_FAST=1              trade durability for speed (throw-away test databases only)
#   PG_BELOW_NORMAL_ROLES  login roles whose sessions run below normal priority (space-separated)
set -euo pipefail

: "${PG_STATE_DIR:?PG_STATE_DIR is required}"
: "${PGPORT:?PGPORT is required}"
: "${PG_SUPERUSER_PASSWORD:?PG_SUPERUSER_PASSWORD is required}"
max_connections="${PG_MAX_CONNECTIONS:-500}"

source "$(dirname "${BASH_SOURCE[0]}")/test-watchdog.sh"
source "$(dirname "${BASH_SOURCE[0]}")/predecessor.sh"

bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin_dir" ] || [ ! -x "$bin_dir/postgres" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql: install the 'postgresql' package (./run.sh and ./test.sh do)." >&2
  exit 1
fi

data_dir="$PG_STATE_DIR/data"
mkdir -p "$PG_STATE_DIR"
wait_for_predecessor "$data_dir/postmaster.pid" "$data_dir"

# PostgreSQL refuses to run as root: run it as the 'postgres' system user, owning its folder.
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$PG_STATE_DIR"
  [ -d "$data_dir" ] && chown -R postgres:postgres "$data_dir"
  as_owner=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi

if [ ! -s "$data_dir/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$PG_SUPERUSER_PASSWORD" > "$pwfile"
  chmod 644 "$pwfile"
  "${as_owner[@]}" "$bin_dir/initdb" -D "$data_dir" -U postgres --pwfile="$pwfile" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "initialised a new database cluster in $data_dir"
fi

# Keep the superuser password in step with the caller's, without opening the server to anyone first.
printf "ALTER ROLE postgres PASSWORD '%s';\n" "${PG_SUPERUSER_PASSWORD//\'/\'\'}" \
  | "${as_owner[@]}" "$bin_dir/postgres" --single -D "$data_dir" postgres >/dev/null

# The outboxes are queues: every row is inserted, then updated once dispatched, hundreds a second under load. A
# dispatcher's pass reads the head of the due index, where the entries of rows just dispatched lie dead until a
# vacuum removes them; with the defaults (a look every minute, then 20 % of the table) a pass read 261,000 buffers
# and took 127 ms at 500 webhooks/s, with these 2,500 buffers and 9 ms. The same settings are given to the container.
CRM_AUTOVACUUM_OPTIONS=(-c autovacuum_naptime=5s -c autovacuum_vacuum_cost_delay=0 -c autovacuum_vacuum_scale_factor=0.02
  -c autovacuum_vacuum_insert_scale_factor=0.02 -c autovacuum_analyze_scale_factor=0.02)
options=(-D "$data_dir" -p "$PGPORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories=
  -c max_connections="$max_connections" -c shared_buffers=128MB -c log_min_messages=warning
  -c log_line_prefix='%m [%p] ' "${CRM_AUTOVACUUM_OPTIONS[@]}")
if [ "${PG_FAST:-0}" = 1 ]; then
  options+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
fi

"${as_owner[@]}" "$bin_dir/postgres" "${options[@]}" &
server=$!

# The services that only consume events run below normal priority (the AppHost's Crm__ProcessPriority), so that on a
# machine out of CPU the edge acknowledging Twilio keeps its share. Most of their cost is in their database sessions,
# which are processes of this server: give those sessions the same priority, or the backlog's queries still compete
# with the webhook's on equal terms. Sessions are found by their process title ("postgres: <role> <database> ...")
# among the server's children, once a second; pooled connections live long, so a new one waits at most that long.
# Where the kernel groups tasks by session (sched_autogroup_enabled=1), the server starts every backend in a session
# of its own, and the CPU is shared between groups first: a backend's nice value then counts only inside its own
# one-process group, and the group, at nice 0, weighs as much as all the .NET services together. So the backend's
# group is lowered as well (measured: their wait for a CPU went from 0.15-0.66 ms a slice to 5-14 ms).
if [ -n "${PG_BELOW_NORMAL_ROLES:-}" ]; then
  roles_pattern="^postgres: ($(tr ' ' '|' <<< "$PG_BELOW_NORMAL_ROLES")) "
  (
    while kill -0 "$server" 2>/dev/null; do
      for session in $(ps --ppid "$server" -o pid=,ni=,args= \
          | awk -v pattern="$roles_pattern" '$2 == 0 { pid = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); if ($0 ~ pattern) print pid }'); do
        renice -n 19 -p "$session" >/dev/null 2>&1 || continue # the session ended meanwhile
        if [ -w "/proc/$session/autogroup" ]; then
          echo 19 2>/dev/null > "/proc/$session/autogroup" || true
        fi
      done
      sleep 1
    done
  ) &
fi
# SIGTERM is PostgreSQL's slow "smart" shutdown (it waits for every client); stop fast instead.
trap 'kill -INT "$server" 2>/dev/null' TERM INT
wait "$server" || true
wait "$server" 2>/dev/null || true
