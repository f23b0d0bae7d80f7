#!/usr/bin/env bash
# Checks that alerts_test.yml covers every alert of alerts.yml both ways: at least one
# alert_rule_test where it fires (non-empty exp_alerts) and one where it must stay quiet
# (`exp_alerts: []`). promtool itself only runs the cases that exist.
set -euo pipefail
rules="${1:?usage: check_alert_tests.sh <alerts.yml> <alerts_test.yml>}"
tests="${2:?usage: check_alert_tests.sh <alerts.yml> <alerts_test.yml>}"

mapfile -t alerts < <(sed -n 's/^[[:space:]]*- alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$rules")
if [ "${#alerts[@]}" -eq 0 ]; then
  echo "no alerts found in $rules"
  exit 1
fi

# One line per alert_rule_test: "<alertname> firing" or "<alertname> quiet".
cases=$(awk '
  /^[[:space:]]*alertname:/ { name = $2; next }
  /^[[:space:]]*exp_alerts:/ && name != "" {
    print name, ($0 ~ /\[\][[:space:]]*$/ ? "quiet" : "firing"); name = ""
  }' "$tests")

status=0
for alert in "${alerts[@]}"; do
  for kind in firing quiet; do
    if ! grep -qx "$alert $kind" <<<"$cases"; then
      echo "$alert: no test case where it is $kind"
      status=1
    fi
  done
done
# A test for an alert that does not exist is a stale test.
while read -r name _; do
  if ! printf '%s\n' "${alerts[@]}" | grep -qx "$name"; then
    echo "$tests tests unknown alert $name"
    status=1
  fi
done <<<"$cases"
[ "$status" -eq 0 ] && echo "all ${#alerts[@]} alerts are tested firing and quiet"
exit "$status"
