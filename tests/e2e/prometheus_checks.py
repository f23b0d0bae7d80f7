#!/usr/bin/env python3
"""What a real Prometheus sees when it scrapes the exporter in demo mode (run by
prometheus_e2e.sh, which starts both): the target is up, the stored participant counts equal the
exporter's own /metrics at the same moment, counters only grow, and the alert rules evaluate
cleanly on live data.

usage: prometheus_checks.py <prometheus url> <exporter url> <number of alert rules>"""

import sys
import time

from e2e_common import CheckFailed, Prometheus, by_meeting, check, log, poll, run, scrape

FIRST_SCRAPE_TIMEOUT = 30  # usually 5-6 s (Prometheus' first scrape after start)
SCRAPE_INTERVAL = 1.0  # prometheus_e2e.sh's scrape_interval
HISTORY_SECONDS = 10  # samples of history before the counter checks
# Alerts that must stay quiet while the demo is healthy: any of them pending or firing on live
# data means its expression is wrong.
QUIET_WHEN_HEALTHY = {
    "HuaweiMeetingExporterDown", "HuaweiMeetingSessionDown", "HuaweiMeetingNoFrames",
    "HuaweiMeetingConnectFailures", "HuaweiMeetingExporterConfigReloadFailed",
}


def check_up(prom):
    result = poll(lambda: prom.query('up{job="huawei_meeting"}'), FIRST_SCRAPE_TIMEOUT,
                  "the first scrape of job huawei_meeting")
    check(len(result) == 1, f"expected one huawei_meeting target, got {result}")
    check(result[0]["value"][1] == "1", f'up{{job="huawei_meeting"}} is {result[0]["value"][1]}')
    log("up{job=\"huawei_meeting\"} == 1")


def check_participants_match(prom, exporter_url):
    """Compares Prometheus' stored huawei_meeting_participants with the exporter's /metrics.

    The demo changes participants almost every second, so one comparison would race. Instead:
    read the exporter (A), wait until Prometheus holds a scrape that started after that read,
    read the exporter again (B). That scrape ran between A and B; when A == B nothing changed in
    between (a change and its reversal within the same tick aside, hence the retries), and
    Prometheus must hold exactly A, per meeting and in sum. Reading A just before the next
    scrape is due keeps the A-B window short, so a simulator tick rarely falls into it; the
    verdict never depends on that timing, only how many attempts it takes."""
    for attempt in range(1, 41):
        stamps = prom.vector("timestamp(huawei_meeting_participants)")
        due = max(stamps.values()) + SCRAPE_INTERVAL
        while due - 0.05 < time.time():
            due += SCRAPE_INTERVAL
        time.sleep(due - 0.05 - time.time())

        samples_a, _ = scrape(exporter_url)
        before = time.time()
        a = by_meeting(samples_a, "huawei_meeting_participants")
        check(a, "the exporter shows no huawei_meeting_participants")

        def newer_scrape():
            latest = prom.vector("timestamp(huawei_meeting_participants)")
            return latest and min(latest.values()) > before and latest

        at = max(poll(newer_scrape, 15, "a scrape after reading the exporter", 0.02).values())
        stored = prom.vector("huawei_meeting_participants", at)
        stored_sum = prom.vector("sum(huawei_meeting_participants)", at)[""]
        samples_b, _ = scrape(exporter_url)
        b = by_meeting(samples_b, "huawei_meeting_participants")
        if a != b:
            log(f"attempt {attempt}: participants changed during the scrape, again")
            continue
        if stored == a and stored_sum == sum(a.values()):
            log(f"sum(huawei_meeting_participants) = {stored_sum:g} in Prometheus and on "
                f"/metrics, per meeting {a}")
            return
        log(f"attempt {attempt}: Prometheus {stored} (sum {stored_sum:g}) != exporter {a}")
    raise CheckFailed("Prometheus never held the exporter's participant counts in 40 attempts")


def check_counters(prom, counters):
    joins = "huawei_meeting_participant_joins_total"

    def enough_history():
        counts = prom.vector(f"count_over_time({joins}[1m])")
        return counts and min(counts.values()) >= HISTORY_SECONDS

    poll(enough_history, 60, f"{HISTORY_SECONDS} samples of {joins}")

    # The demo is lively: wait until joins or leaves have actually moved, so that the checks
    # below compare real growth and not zeros.
    def some_growth():
        moved = prom.query("sum(increase(huawei_meeting_participant_joins_total[5m])) + "
                           "sum(increase(huawei_meeting_participant_leaves_total[5m]))")
        return moved and float(moved[0]["value"][1]) > 0

    poll(some_growth, 60, "participants joining or leaving in the demo")

    at = time.time()
    increase = prom.vector(f"increase({joins}[30s])", at)
    rate = prom.vector(f"rate({joins}[30s])", at)
    check(increase and set(increase) == set(rate), f"increase/rate of {joins}: {increase} {rate}")
    for meeting_id, value in increase.items():
        check(value >= 0, f"increase({joins}[30s]) < 0 for {meeting_id}: {value}")
        check(rate[meeting_id] >= 0, f"rate({joins}[30s]) < 0 for {meeting_id}")
        # rate is increase per second over the same window, up to float rounding.
        check(abs(rate[meeting_id] * 30 - value) < 1e-6 * max(1.0, value),
              f"rate*30 != increase for {meeting_id}: {rate[meeting_id]} {value}")

    # Over the whole run, increase() is at least the raw growth (it only extrapolates outward).
    whole_run = prom.vector(f"increase({joins}[5m])", at)
    for series in prom.query(f"{joins}[5m]", at):
        meeting_id = series["metric"]["meeting_id"]
        values = [float(v) for _, v in series["values"]]
        whole = whole_run[meeting_id]
        check(whole >= values[-1] - values[0] - 1e-9,
              f"increase({joins}[5m]) {whole} < raw growth {values[-1] - values[0]}")

    # resets() drops the metric name, so it runs per counter family.
    check(counters, "the exporter exposes no counters")
    for name in counters:
        reset = [r["metric"] for r in prom.query(f"resets({name}[5m])", at)
                 if float(r["value"][1]) != 0]
        check(not reset, f"{name} reset during the run: {reset}")
    # And the raw samples of every counter series never decrease.
    all_counters = prom.query('{__name__=~"huawei_meeting_.+_total"}[5m]', at)
    for series in all_counters:
        values = [float(v) for _, v in series["values"]]
        check(all(x <= y for x, y in zip(values, values[1:])), f"decreased: {series['metric']}")

    # The catalogue's rule: joins - leaves = participants + calling, within one scrape.
    balance = prom.vector(f"{joins} - huawei_meeting_participant_leaves_total - "
                          "huawei_meeting_participants - huawei_meeting_participants_calling", at)
    check(balance and all(v == 0 for v in balance.values()),
          f"joins - leaves != participants + calling: {balance}")
    log(f"joins increase over 30s {increase}; {len(all_counters)} counter series of "
        f"{len(counters)} families never decreased, resets() == 0; "
        "joins - leaves == participants + calling")


def check_rules(prom, expected_rules):
    def evaluated_rules():
        rules = [rule for group in prom.api("rules")["groups"] for rule in group["rules"]]
        done = rules and all(not r["lastEvaluation"].startswith("0001-") for r in rules)
        return done and rules

    rules = poll(evaluated_rules, 30, "one evaluation of every alert rule")
    check(len(rules) == expected_rules, f"Prometheus loaded {len(rules)} rules, "
          f"alerts.yml has {expected_rules}")
    for rule in rules:
        check(rule["health"] == "ok",
              f"rule {rule['name']}: {rule['health']} {rule.get('lastError')}")
        if rule["name"] in QUIET_WHEN_HEALTHY:
            check(rule["state"] == "inactive", f"{rule['name']} is {rule['state']} on a healthy "
                  f"demo for {[alert['labels'] for alert in rule['alerts']]}")
    names = {rule["name"] for rule in rules}
    check(QUIET_WHEN_HEALTHY <= names,
          f"alerts missing from the rules: {QUIET_WHEN_HEALTHY - names}")
    log(f"{len(rules)} alert rules evaluate without error; the health alerts are inactive")


def main():
    prom_url, exporter_url, expected_rules = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prom = Prometheus(prom_url)
    check_up(prom)
    check_participants_match(prom, exporter_url)
    _, types = scrape(exporter_url)
    check_counters(prom, sorted(name for name, kind in types.items() if kind == "counter"))
    check_rules(prom, expected_rules)


if __name__ == "__main__":
    run(main)
