# shellcheck shell=bash
# Shared helpers for the e2e tests: start the exporter in demo mode and a real Prometheus that
# scrapes it, both on loopback, and stop them (by PID) and delete their files on any exit.
# Source it from a script that runs with `set -euo pipefail`; it needs curl and python3.
#
# After e2e_start_exporter: EXPORTER_URL (http://127.0.0.1:PORT), EXPORTER_PID.
# After e2e_start_prometheus: PROM_URL, PROM_PID. E2E_DIR is the temporary folder.

# shellcheck disable=SC2034  # used by the scripts that source this file
E2E_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hme-e2e.XXXXXX")"
E2E_PIDS=()
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree

e2e_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

e2e_fail() {
  e2e_log "FAIL: $*"
  exit 1
}

# Stops what we started: SIGTERM, up to 10 s to exit, then SIGKILL. Prints the logs when the
# script fails so a ctest failure explains itself.
e2e_cleanup() {
  local rc=$?
  local pid
  for pid in "${E2E_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${E2E_PIDS[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    local log
    for log in "$E2E_DIR"/*.log; do
      [ -e "$log" ] || continue
      echo "----- last lines of $(basename "$log") -----"
      tail -n 30 "$log"
    done
  fi
  rm -rf "$E2E_DIR"
  exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# e2e_run <command...>: runs the command (the Python checks) in the background and waits for
# it. A foreground child would hold off the INT/TERM traps (and so the cleanup) until it ends;
# `wait` returns at once when a signal arrives.
e2e_run() {
  "$@" &
  local pid=$!
  E2E_PIDS+=("$pid")
  wait "$pid"
}

# e2e_start_exporter <binary>: demo mode on 127.0.0.1:0; the port comes from the log line
# `msg="Listening on" address=127.0.0.1:PORT`.
e2e_start_exporter() {
  local binary="$1"
  [ -x "$binary" ] || e2e_fail "exporter binary not found: $binary"
  "$binary" --demo --web.listen-address=127.0.0.1:0 2>"$E2E_DIR/exporter.log" >/dev/null &
  EXPORTER_PID=$!
  E2E_PIDS+=("$EXPORTER_PID")
  local deadline=$((SECONDS + 30)) port=""
  while [ -z "$port" ]; do
    kill -0 "$EXPORTER_PID" 2>/dev/null || e2e_fail "the exporter exited during start"
    [ "$SECONDS" -lt "$deadline" ] || e2e_fail "no 'Listening on' line from the exporter in 30s"
    port=$(sed -n 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
      "$E2E_DIR/exporter.log" | head -n 1)
    [ -n "$port" ] || sleep 0.1
  done
  EXPORTER_URL="http://127.0.0.1:$port"
  e2e_log "exporter (pid $EXPORTER_PID) listens on $EXPORTER_URL"
}

# A loopback port that was free a moment ago. Another process may take it before Prometheus
# binds it, so e2e_start_prometheus retries with a new port when Prometheus exits.
e2e_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# e2e_start_prometheus <prometheus binary> [rule file]: scrapes the exporter every second as
# job huawei_meeting, evaluates the rule file every second, keeps its TSDB in E2E_DIR.
e2e_start_prometheus() {
  local binary="$1" rules="${2:-}"
  command -v "$binary" >/dev/null 2>&1 || e2e_fail "prometheus not found: $binary"
  local target="${EXPORTER_URL#http://}"
  {
    echo "global:"
    echo "  scrape_interval: 1s"
    echo "  scrape_timeout: 1s"
    echo "  evaluation_interval: 1s"
    if [ -n "$rules" ]; then
      echo "rule_files:"
      echo "  - '$rules'"
    fi
    echo "scrape_configs:"
    echo "  - job_name: huawei_meeting"
    echo "    static_configs:"
    echo "      - targets: ['$target']"
  } >"$E2E_DIR/prometheus.yml"

  local attempt port deadline
  for attempt in 1 2 3; do
    port=$(e2e_free_port)
    "$binary" --config.file="$E2E_DIR/prometheus.yml" \
      --storage.tsdb.path="$E2E_DIR/tsdb-$attempt" \
      --web.listen-address="127.0.0.1:$port" \
      >"$E2E_DIR/prometheus.log" 2>&1 &
    PROM_PID=$!
    E2E_PIDS+=("$PROM_PID")
    PROM_URL="http://127.0.0.1:$port"
    deadline=$((SECONDS + 60))
    while kill -0 "$PROM_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      if curl -fsS --max-time 5 -o /dev/null "$PROM_URL/-/ready" 2>/dev/null; then
        e2e_log "prometheus (pid $PROM_PID) ready on $PROM_URL"
        return 0
      fi
      sleep 0.2
    done
    kill -0 "$PROM_PID" 2>/dev/null && e2e_fail "prometheus not ready within 60s"
    e2e_log "prometheus exited (attempt $attempt, port $port), retrying on another port"
    cp "$E2E_DIR/prometheus.log" "$E2E_DIR/prometheus-attempt-$attempt.log"
  done
  e2e_fail "prometheus did not start"
}
