# Sourced by postgres.sh and rabbitmq.sh (not run on its own).
# Tests start the server script in a process group of its own, with their process id and their throw-away folder:
# should the test process die without stopping the server (vstest kills test hosts at the end of a run),
# the watcher stops the group and removes the folder. It ignores the group's SIGTERM, and leaves as soon
# as the folder is gone (the test removed it after stopping the server itself).
if [ -n "${SAFENOTIFY_PARENT_PID:-}" ] && [ -n "${SAFENOTIFY_DELETE_ON_EXIT:-}" ]; then
  (
    trap '' TERM
    while kill -0 "$SAFENOTIFY_PARENT_PID" 2>/dev/null && [ -d "$SAFENOTIFY_DELETE_ON_EXIT" ]; do sleep 1; done
    [ -d "$SAFENOTIFY_DELETE_ON_EXIT" ] || exit 0
    kill -TERM -- "-$$" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$$" 2>/dev/null || break; sleep 1; done
    rm -rf "$SAFENOTIFY_DELETE_ON_EXIT"
    kill -KILL -- "-$$" 2>/dev/null # whatever is left of the group, this watcher included
  ) >/dev/null 2>&1 &
fi
