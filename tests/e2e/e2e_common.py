"""Shared helpers of the e2e checks: the Prometheus HTTP API, the exporter's text exposition,
polling with a deadline, and failing with a clear message. Standard library only."""

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HTTP_TIMEOUT = 10  # seconds per request; generous for a loaded 2-core machine


class CheckFailed(Exception):
    """An assertion of the e2e test did not hold."""


def check(condition, message):
    """Raises CheckFailed(message) unless condition holds."""
    if not condition:
        raise CheckFailed(message)


def run(main):
    """Runs main(), turning CheckFailed into a one-line failure and exit code 1."""
    try:
        main()
    except CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        sys.exit(1)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def http_get(url):
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
        return response.read().decode("utf-8")


class Prometheus:
    """A client for the Prometheus HTTP API at base_url (http://host:port)."""

    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def api(self, path, **params):
        """GETs /api/v1/<path>; returns `data`. A non-success answer or a warning is a failure:
        a dashboard query that only 'works' with warnings is broken."""
        url = f"{self.base_url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            body = json.loads(http_get(url))
        except urllib.error.HTTPError as error:
            body = json.loads(error.read().decode("utf-8") or "{}")
        check(body.get("status") == "success",
              f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        check(not body.get("warnings"), f"{path} {params}: warnings {body.get('warnings')}")
        return body["data"]

    def query(self, expr, at=None):
        """Instant query; returns the result list (vector) or [time, value] (scalar)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("query", **params)["result"]

    def query_range(self, expr, start, end, step):
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}",
                        step=f"{step}")["result"]

    def vector(self, expr, at=None):
        """Instant query as {meeting_id or '': float}; fails on duplicate keys."""
        out = {}
        for item in self.query(expr, at):
            key = item["metric"].get("meeting_id", "")
            check(key not in out, f"{expr}: more than one series for meeting_id={key!r}")
            out[key] = float(item["value"][1])
        return out


# One sample line of the text format: name, optional {labels}, value (no timestamps: the
# exporter never sends them).
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_exposition(text):
    """Parses the Prometheus text format into (samples, types): samples is a list of
    (name, {label: value}, float), types maps each `# TYPE` name to its type. Label values keep
    their escapes (\\", \\\\, \\n): the checks only compare meeting ids."""
    samples, types = [], {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        check(match is not None, f"unparsable exposition line: {line!r}")
        name, label_text, value = match.groups()
        labels = {}
        if label_text:
            body, pos = label_text[1:-1], 0
            while pos < len(body):
                label = _LABEL.match(body, pos)
                check(label is not None, f"unparsable labels in: {line!r}")
                labels[label.group(1)] = label.group(2)
                pos = label.end()
        samples.append((name, labels, float(value)))
    return samples, types


def scrape(exporter_url):
    """Fetches and parses the exporter's /metrics."""
    return parse_exposition(http_get(exporter_url.rstrip("/") + "/metrics"))


def by_meeting(samples, name):
    """{meeting_id: value} of one metric family in parsed samples."""
    return {labels["meeting_id"]: value for n, labels, value in samples if n == name}


def poll(probe, timeout, what, interval=0.25):
    """Calls probe() until it returns a truthy value and returns that value; fails after
    timeout seconds with `what` in the message. CheckFailed inside probe counts as 'not yet'
    and its message is reported on timeout."""
    deadline = time.monotonic() + timeout
    last_problem = ""
    while True:
        try:
            value = probe()
            if value:
                return value
        except (CheckFailed, urllib.error.URLError, OSError) as problem:
            last_problem = f" (last problem: {problem})"
        if time.monotonic() >= deadline:
            raise CheckFailed(f"timed out after {timeout}s waiting for {what}{last_problem}")
        time.sleep(interval)
