#!/usr/bin/env bash
# End-to-end check of the Grafana dashboard's queries against a real Prometheus scraping the
# exporter in demo mode (Grafana itself is not needed).
# usage: dashboard_e2e.sh <exporter binary> <prometheus binary> <dashboard.json>
set -euo pipefail
usage="usage: dashboard_e2e.sh <exporter binary> <prometheus binary> <dashboard.json>"
exporter="${1:?$usage}"
prometheus="${2:?$usage}"
dashboard="${3:?$usage}"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

python3 -m json.tool "$dashboard" >/dev/null || e2e_fail "$dashboard is not valid JSON"
e2e_start_exporter "$exporter"
e2e_start_prometheus "$prometheus"
e2e_run python3 "$E2E_LIB_DIR/dashboard_checks.py" "$dashboard" "$PROM_URL" "$EXPORTER_URL"
e2e_log "PASS"
