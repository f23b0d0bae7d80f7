#!/usr/bin/env python3
"""Checks the Grafana dashboard without Grafana (run by dashboard_e2e.sh, which starts the
exporter in demo mode and a Prometheus scraping it):

- static: valid JSON in the current schema (schemaVersion 39), a Prometheus `__inputs` entry,
  the `datasource` and `meeting_id` template variables, every panel and target on
  `${datasource}`, unique ids, panels inside the 24-column grid without overlaps, the expected
  rows, only metric names the exporter exposes, every per-meeting query filtered by $meeting_id;
- live: the meeting_id variable's query lists the demo's meetings; every target expression, with
  Grafana's variables substituted as Grafana would, runs without error or warning against
  Prometheus and returns data (no panel may be empty); result series belong to the demo's
  meetings, carry the labels their legend uses, and selecting a single meeting returns only it.

usage: dashboard_checks.py <dashboard.json> <prometheus url> <exporter url>"""

import json
import re
import sys
import time

from e2e_common import Prometheus, check, log, poll, run, scrape

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
REQUIRED_ROWS = ["Overview", "Participants", "Roles and clients", "Speakers", "Network quality",
                 "Per-participant network", "Session health"]
# Grafana's built-in interval variables, set for a 1 s scrape interval and the short history the
# test has: long enough to hold several samples, short enough to wait for.
INTERVALS = {"$__rate_interval": "10s", "$__interval": "2s", "$__range": "20s"}
RANGE_SECONDS = 20  # range queries look at the last 20 s, like a short dashboard time range
STEP_SECONDS = 2
METRIC_NAME = re.compile(r"\b(huawei_meeting_[a-z0-9_]+)\b")
LEGEND_LABEL = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def targets_of(dashboard):
    """(panel, target) pairs of all non-row panels, including panels inside collapsed rows."""
    for panel in dashboard["panels"]:
        for inner in [panel] + panel.get("panels", []):
            if inner["type"] != "row":
                for target in inner.get("targets", []):
                    yield inner, target


def check_static(dashboard, exposed_names):
    check(dashboard.get("schemaVersion") == 39, f"schemaVersion {dashboard.get('schemaVersion')}")
    check(dashboard.get("uid") and dashboard.get("title"), "uid and title are required")
    check(any(i.get("type") == "datasource" and i.get("pluginId") == "prometheus"
              for i in dashboard.get("__inputs", [])), "no Prometheus datasource in __inputs")

    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    ds = variables.get("datasource", {})
    check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
          f"variable datasource must be a prometheus datasource variable: {ds}")
    meeting = variables.get("meeting_id", {})
    query = meeting.get("query")
    query = query.get("query") if isinstance(query, dict) else query
    check(meeting.get("type") == "query" and meeting.get("datasource") == DATASOURCE
          and query == "label_values(huawei_meeting_up, meeting_id)"
          and meeting.get("multi") is True and meeting.get("includeAll") is True,
          f"variable meeting_id: {meeting}")

    ids, cells = set(), {}
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    check(rows == REQUIRED_ROWS, f"rows {rows}, expected {REQUIRED_ROWS}")
    for panel in dashboard["panels"]:
        for inner in [panel] + panel.get("panels", []):
            title = inner.get("title", "")
            check(inner.get("id") not in ids, f"duplicate panel id {inner.get('id')}")
            ids.add(inner.get("id"))
            pos = inner["gridPos"]
            check(pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0,
                  f"panel {title!r} outside the grid: {pos}")
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    check((x, y) not in cells,
                          f"panels {cells.get((x, y))!r} and {title!r} overlap")
                    cells[(x, y)] = title
            if inner["type"] == "row":
                continue
            check(inner.get("datasource") == DATASOURCE, f"panel {title!r} datasource")
            check(inner.get("targets"), f"panel {title!r} has no queries")
            ref_ids = [t.get("refId") for t in inner["targets"]]
            check(len(set(ref_ids)) == len(ref_ids) and all(ref_ids),
                  f"panel {title!r}: refIds {ref_ids}")

    count = 0
    for panel, target in targets_of(dashboard):
        count += 1
        expr, title = target.get("expr", ""), panel["title"]
        check(expr and target.get("datasource") == DATASOURCE, f"panel {title!r}: target {target}")
        names = set(METRIC_NAME.findall(expr))
        check(names, f"panel {title!r} queries no exporter metric: {expr}")
        unknown = names - exposed_names
        check(not unknown, f"panel {title!r} uses metrics the exporter does not expose: {unknown}")
        exporter_only = all(n.startswith("huawei_meeting_exporter_") for n in names)
        check(exporter_only or 'meeting_id=~"$meeting_id"' in expr,
              f"panel {title!r} is not filtered by $meeting_id: {expr}")
    log(f"dashboard structure ok: {len(ids)} panels, {count} queries, rows {rows}")


def substitute(expr, meeting_regex):
    for name, value in INTERVALS.items():
        expr = expr.replace(name, value)
    expr = expr.replace("$meeting_id", meeting_regex)
    check("$" not in expr, f"unsubstituted variable in {expr}")
    return expr


def run_target(prom, target, expr, now):
    """Runs a target as Grafana would: instant or range query. Returns the result series."""
    if target.get("instant"):
        return prom.query(expr, now)
    return prom.query_range(expr, now - RANGE_SECONDS, now, STEP_SECONDS)


def check_live(dashboard, prom, meeting_ids):
    values = sorted(prom.api("label/meeting_id/values", **{"match[]": "huawei_meeting_up"}))
    check(values == meeting_ids, f"label_values(huawei_meeting_up, meeting_id) = {values}, "
          f"the exporter has {meeting_ids}")
    # Grafana's value for "All" of a multi-value variable in a Prometheus query: (a|b|c).
    all_meetings = "(" + "|".join(re.escape(m) for m in meeting_ids) + ")"
    one = meeting_ids[len(meeting_ids) // 2]

    now = time.time()
    for panel, target in targets_of(dashboard):
        title = f"{panel['title']!r} {target['refId']}"
        expr = substitute(target["expr"], all_meetings)
        result = run_target(prom, target, expr, now)
        check(result, f"panel {title} returns no data: {expr}")
        for series in result:
            labels = series["metric"]
            check(labels.get("meeting_id") in meeting_ids + [None],
                  f"panel {title}: series of an unknown meeting {labels}")
            missing = set(LEGEND_LABEL.findall(target.get("legendFormat", ""))) - set(labels)
            check(not missing, f"panel {title}: legend uses {missing}, absent from {labels}")

        if "$meeting_id" in target["expr"]:
            single = run_target(prom, target, substitute(target["expr"], re.escape(one)), now)
            check(single, f"panel {title} returns no data for meeting {one}")
            others = {s["metric"].get("meeting_id") for s in single} - {one, None}
            check(not others, f"panel {title}: meeting {one} selected, got {others}")
    log(f"every dashboard query returns data for meetings {meeting_ids}, and only meeting "
        f"{one} when it alone is selected")


def main():
    dashboard_file, prom_url, exporter_url = sys.argv[1:4]
    with open(dashboard_file, encoding="utf-8") as f:
        dashboard = json.load(f)
    samples, _ = scrape(exporter_url)
    meeting_ids = sorted({l["meeting_id"] for n, l, _ in samples if n == "huawei_meeting_up"})
    check(meeting_ids, "the exporter shows no meetings")

    prom = Prometheus(prom_url)
    # Wait for what the panels need: Prometheus has a scrape in which every meeting reports a
    # heartbeat RTT (the demo's first heartbeat goes out 20 s after subscribing), and enough
    # history for the rate()/increase() windows.
    poll(lambda: len(prom.query('up{job="huawei_meeting"} == 1')) == 1, 30,
         "the first scrape of job huawei_meeting")
    poll(lambda: len(prom.query("huawei_meeting_heartbeat_rtt_seconds")) == len(meeting_ids), 60,
         "a heartbeat RTT of every demo meeting")
    poll(lambda: prom.query(f'count_over_time(up{{job="huawei_meeting"}}[{RANGE_SECONDS}s]) '
                            f'>= {RANGE_SECONDS // 2}'), 60, f"{RANGE_SECONDS} s of history")

    _, types = scrape(exporter_url)  # now with every family, the heartbeat RTT included
    check_static(dashboard, set(types))
    check_live(dashboard, prom, meeting_ids)


if __name__ == "__main__":
    run(main)
