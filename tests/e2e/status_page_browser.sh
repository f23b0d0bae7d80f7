#!/usr/bin/env bash
# Loads the status page of a demo exporter in Debian's headless Chromium: the rendered DOM must
# list every meeting the exporter watches, each with its session state, and a screenshot is kept
# as a test artifact.
# Usage: status_page_browser.sh <huawei_meeting_exporter binary> <artifacts dir>
set -euo pipefail

bin=${1:?usage: status_page_browser.sh <exporter binary> <artifacts dir>}
artifacts=${2:?usage: status_page_browser.sh <exporter binary> <artifacts dir>}
browser=$(command -v chromium || true)
[ -n "$browser" ] || {
  echo "FAIL: chromium is not installed (scripts/setup.sh installs it)" >&2
  exit 1
}
mkdir -p "$artifacts"
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in exporter.log chromium.log; do
    if [ -f "$tmp/$f" ]; then
      echo "--- $f (last 15 lines) ---" >&2
      tail -n 15 "$tmp/$f" >&2
    fi
  done
  exit 1
}

"$bin" --demo --web.listen-address=127.0.0.1:0 2>"$tmp/exporter.log" &
pid=$!

deadline=$((SECONDS + 20))
address=""
until [ -n "$address" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the exporter logged no listen address within 20 s"
  kill -0 "$pid" 2>/dev/null || fail "the exporter exited"
  sleep 0.1
  address=$(sed -n 's/.*msg="Listening on" address=\([^ ]*\).*/\1/p' "$tmp/exporter.log" | head -n 1)
done
url="http://$address"

# Wait until every session is subscribed, so the page has a settled state to show.
deadline=$((SECONDS + 30))
until curl -fsS --max-time 5 "$url/-/ready" 2>/dev/null | grep -q 'Ready: 3 of 3 sessions subscribed'; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the demo sessions did not all subscribe within 30 s"
  sleep 0.2
done
meeting_ids=$(curl -fsS --max-time 5 "$url/metrics" |
  sed -n 's/^huawei_meeting_up{meeting_id="\([0-9]*\)"} .*/\1/p' | sort)
[ "$(wc -l <<<"$meeting_ids")" -eq 3 ] || fail "expected 3 meetings in /metrics, got: $meeting_ids"

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --no-first-run --disable-sync --disable-dev-shm-usage)
timeout 90 "$browser" "${flags[@]}" --user-data-dir="$tmp/profile-dom" --dump-dom "$url/" \
  >"$tmp/dom.html" 2>"$tmp/chromium.log" || fail "chromium --dump-dom failed (status $?)"
cp "$tmp/dom.html" "$artifacts/status.dom.html"

# The page writes one <tr> per line and Chromium's serialisation keeps those line breaks.
rows=$(grep -c '<tr[^>]* data-meeting-id="' "$tmp/dom.html" || true)
[ "$rows" -eq 3 ] || fail "expected 3 meeting rows in the DOM, found $rows"
for id in $meeting_ids; do
  row=$(grep "<tr[^>]* data-meeting-id=\"$id\"" "$tmp/dom.html") || fail "meeting $id is not on the page"
  state=$(sed -n 's/.*<td class="state">\([^<]*\)<\/td>.*/\1/p' <<<"$row")
  case "$state" in
    waiting | connecting | subscribed | backoff | ended) ;;
    *) fail "meeting $id has no valid state cell: '$state'" ;;
  esac
  [ "$state" = "subscribed" ] || fail "meeting $id shows state '$state', the exporter said subscribed"
done
grep -q '<p id="summary">Sessions: <span data-state="subscribed">3 subscribed</span>' "$tmp/dom.html" ||
  fail "the summary line does not count 3 subscribed sessions"
grep -q '<meta http-equiv="refresh" content="5">' "$tmp/dom.html" || fail "the page does not refresh itself"

rm -f "$artifacts/status.png"
timeout 90 "$browser" "${flags[@]}" --user-data-dir="$tmp/profile-shot" --hide-scrollbars \
  --screenshot="$artifacts/status.png" --window-size=1280,800 "$url/" \
  >/dev/null 2>>"$tmp/chromium.log" || fail "chromium --screenshot failed (status $?)"
[ "$(head -c 8 "$artifacts/status.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
  fail "the screenshot is not a PNG"

echo "status_page_browser: OK ($artifacts/status.png)"
