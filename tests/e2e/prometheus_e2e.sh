#!/usr/bin/env bash
# End-to-end: a real Prometheus scrapes the exporter in demo mode and evaluates alerts.yml.
# usage: prometheus_e2e.sh <exporter binary> <prometheus binary> <alerts.yml>
set -euo pipefail
usage="usage: prometheus_e2e.sh <exporter binary> <prometheus binary> <alerts.yml>"
exporter="${1:?$usage}"
prometheus="${2:?$usage}"
rules="$(cd "$(dirname "${3:?$usage}")" && pwd)/$(basename "$3")"
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

rule_count=$(grep -c '^[[:space:]]*- alert:' "$rules")
e2e_start_exporter "$exporter"
e2e_start_prometheus "$prometheus" "$rules"
e2e_run python3 "$E2E_LIB_DIR/prometheus_checks.py" "$PROM_URL" "$EXPORTER_URL" "$rule_count"
e2e_log "PASS"
