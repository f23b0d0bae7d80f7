#!/usr/bin/env bash
# Drives the exporter the way Telegraf's inputs.execd (signal = "STDIN", data_format =
# "prometheus") does, through pipes: each newline on stdin must produce exactly one complete
# exposition on stdout (ended by "# EOF"), stderr must carry Telegraf's level prefixes, no HTTP
# listener may be opened unless asked for, and EOF on stdin must end the process with exit 0.
# Usage: telegraf_execd.sh <huawei_meeting_exporter binary>
set -euo pipefail

bin=${1:?usage: telegraf_execd.sh <exporter binary>}
tmp=$(mktemp -d)
pid=""
pid2=""
cleanup() {
  for p in $pid $pid2; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$tmp/stderr" ]; then
    echo "--- exporter stderr (last 20 lines) ---" >&2
    tail -n 20 "$tmp/stderr" >&2
  fi
  exit 1
}

# Waits up to $2 seconds for process $1 to exit; its exit status ends up in $exit_status.
wait_exit() {
  local p=$1 deadline=$((SECONDS + $2))
  while kill -0 "$p" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "process $p did not exit within $2 s"
    sleep 0.1
  done
  exit_status=0
  wait "$p" || exit_status=$?
}

coproc EXPORTER { exec "$bin" --demo --telegraf.execd 2>"$tmp/stderr"; }
pid=$EXPORTER_PID
out_fd=${EXPORTER[0]}
in_fd=${EXPORTER[1]}

# Reads one exposition (up to the "# EOF" line) into file $1; fails after 15 s without a line.
read_exposition() {
  local line
  : >"$1"
  while IFS= read -r -t 15 -u "$out_fd" line; do
    if [ "$line" = "# EOF" ]; then
      return 0
    fi
    printf '%s\n' "$line" >>"$1"
  done
  fail "no complete exposition on stdout within 15 s"
}

# 1. One line, one exposition. The sessions keep running between collections: poll until the
#    three demo meetings are up (bounded), each answer being a complete exposition.
up=0
for _ in $(seq 1 60); do
  echo >&"$in_fd"
  read_exposition "$tmp/exposition"
  meetings=$(grep -c '^huawei_meeting_up{meeting_id="[0-9]*"} [01]$' "$tmp/exposition" || true)
  [ "$meetings" -eq 3 ] || fail "expected huawei_meeting_up for 3 meetings, got $meetings"
  up=$(grep -c '^huawei_meeting_up{meeting_id="[0-9]*"} 1$' "$tmp/exposition" || true)
  [ "$up" -eq 3 ] && break
  sleep 0.5
done
[ "$up" -eq 3 ] || fail "the 3 demo meetings did not come up within 30 s"
grep -q '^# TYPE huawei_meeting_participants gauge$' "$tmp/exposition" ||
  fail "the exposition lacks TYPE lines"
lint=$(promtool check metrics <"$tmp/exposition" 2>&1) || fail "promtool check metrics: $lint"
[ -z "$lint" ] || fail "promtool check metrics is not silent: $lint"

# 2. Two lines at once, two expositions, and no third one.
printf '\n\n' >&"$in_fd"
read_exposition "$tmp/first"
read_exposition "$tmp/second"
grep -q '^huawei_meeting_up{' "$tmp/first" || fail "first of two expositions is empty"
grep -q '^huawei_meeting_up{' "$tmp/second" || fail "second of two expositions is empty"
if IFS= read -r -t 1 -u "$out_fd" extra; then
  fail "more output than two expositions for two lines: '$extra'"
fi

# 3. No HTTP listener without --web.listen-address: the only listening socket the process owns
#    is the in-process demo simulator's (its port is in the api_url log line).
sim_port=$(sed -n 's/.*api_url=https:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/stderr" | head -n 1)
[ -n "$sim_port" ] || fail "no api_url in the log"
socket_inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
  sed 's/socket:\[\([0-9]*\)\]/\1/' | sort -u)
listening_ports=$(awk 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); print $10, a[n] }' \
  /proc/net/tcp /proc/net/tcp6 | while read -r inode hex_port; do
  if grep -qx "$inode" <<<"$socket_inodes"; then echo $((16#$hex_port)); fi
done | sort -u)
[ "$listening_ports" = "$sim_port" ] ||
  fail "listening ports of the exporter: '$listening_ports', expected only the simulator's $sim_port"
grep -q 'Listening on' "$tmp/stderr" && fail "an HTTP listener was started in execd mode"

# 4. Telegraf's log convention on stderr: every line has a level prefix.
bad=$(grep -v -E '^(E|W|I|D)! ' "$tmp/stderr" || true)
[ -z "$bad" ] || fail "stderr lines without a Telegraf level prefix: $bad"
grep -q '^I! ' "$tmp/stderr" || fail "no info line on stderr"

# 5. EOF on stdin: clean shutdown with exit status 0.
eval "exec ${in_fd}>&-"
wait_exit "$pid" 15
[ "$exit_status" -eq 0 ] || fail "exit status $exit_status after EOF, expected 0"
grep -q '^I! stdin closed, shutting down' "$tmp/stderr" || fail "no shutdown log line"

# 6. With --web.listen-address the HTTP endpoint is served as well.
mkfifo "$tmp/stdin"
"$bin" --demo --telegraf.execd --web.listen-address=127.0.0.1:0 <"$tmp/stdin" \
  >"$tmp/stdout2" 2>"$tmp/stderr2" &
pid2=$!
exec 7>"$tmp/stdin"
deadline=$((SECONDS + 15))
until grep -q 'Listening on' "$tmp/stderr2"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "no HTTP listener with --web.listen-address"
  sleep 0.1
done
exec 7>&-
wait_exit "$pid2" 15
[ "$exit_status" -eq 0 ] || fail "exit status $exit_status after EOF (with listener)"

echo "telegraf_execd: OK"
