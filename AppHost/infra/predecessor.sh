# Sourced by postgres.sh and rabbitmq.sh (not run on its own).
# A restart may begin before the previous server of the same folder has finished stopping: Aspire's orchestrator
# kills the script 6 s after asking it to stop, and the server it started goes on shutting down on its own, still
# holding the folder, the port and (RabbitMQ) the node name. A new server started then fails at once, and the
# resource stays down. So wait for it, as long as a graceful stop may take, and only then force it.
#   wait_for_predecessor PID_FILE MARKER   MARKER: text the old server's command line contains (its folder)
wait_for_predecessor() {
  local pid_file=$1 marker=$2 pid
  [ -s "$pid_file" ] || return 0
  pid=$(head -n 1 "$pid_file" | tr -dc '0-9')
  [ -n "$pid" ] || return 0
  # A pid reused by an unrelated process is not ours to wait for.
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 0
  echo "waiting for the previous server (pid $pid) to finish stopping"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  echo "the previous server (pid $pid) did not stop within 30 s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
}
