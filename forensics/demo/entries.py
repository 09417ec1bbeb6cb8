"""LogEntry builders: Cloud Logging v2 REST JSON dicts for Cloud Run, Cloud SQL and audit logs.

Every builder has the signature `build(factory, ts_us, arg) -> dict` so the stream can keep
lightweight `(ts_us, seq, build, arg)` tuples per hour and only materialise dicts when yielding.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from forensics.demo.model import DEMO_PROJECT, REGION, SQL_DATABASE_ID

LOG_PREFIX = f"projects/{DEMO_PROJECT}/logs/"
LOG = {
    "stdout": LOG_PREFIX + "run.googleapis.com%2Fstdout",
    "stderr": LOG_PREFIX + "run.googleapis.com%2Fstderr",
    "requests": LOG_PREFIX + "run.googleapis.com%2Frequests",
    "system": LOG_PREFIX + "run.googleapis.com%2Fvarlog%2Fsystem",
    "postgres": LOG_PREFIX + "cloudsql.googleapis.com%2Fpostgres.log",
    "activity": LOG_PREFIX + "cloudaudit.googleapis.com%2Factivity",
    "system_event": LOG_PREFIX + "cloudaudit.googleapis.com%2Fsystem_event",
}
TRACE_PREFIX = f"projects/{DEMO_PROJECT}/traces/"
SERVER_IP = "34.54.41.44"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class Factory:
    """Shared state while materialising one stream: rng, insertId counter, timestamp cache."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"demo-entries/{seed}")
        self.count = 0
        self._sec: dict[int, str] = {}

    def sec(self, us: int) -> str:
        """'YYYY-MM-DD HH:MM:SS' of the second holding `us` (cached: entries arrive sorted)."""
        s = us // 1_000_000
        text = self._sec.get(s)
        if text is None:
            if len(self._sec) > 4096:
                self._sec.clear()
            text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s))
            self._sec[s] = text
        return text

    def iso(self, us: int) -> str:
        return f"{self.sec(us).replace(' ', 'T')}.{us % 1_000_000:06d}Z"

    def iso_receive(self, us: int) -> str:
        """receiveTimestamp: a little later than the entry, with nanosecond digits."""
        delay_us = 15_000 + int(self.rng.random() * 250_000)
        r = us + delay_us
        ns = self.rng.getrandbits(10) % 1000
        return f"{self.sec(r).replace(' ', 'T')}.{r % 1_000_000:06d}{ns:03d}Z"

    def next_mix(self) -> int:
        # Odd multiplier: a bijection on 32 bits, so ids stay unique for < 2**32 entries.
        self.count += 1
        return (self.count * 0x9E3779B1) & 0xFFFFFFFF

    def insert_id(self, us: int) -> str:
        """Cloud Run style: hex seconds, hex microseconds, hex suffix (24 chars)."""
        return f"{us // 1_000_000:08x}{us % 1_000_000:08x}{self.next_mix():08x}"

    def audit_id(self, us: int) -> str:
        """Audit style short lowercase id (e.g. 'gdp3omd3kdx')."""
        n, out = self.next_mix(), []
        for _ in range(7):
            n, r = divmod(n, 36)
            out.append(_B36[r])
        return _B36[(us // 1_000_000) % 36] + "".join(out) + f"{(us // 1000) % 1000:03d}"


Builder = Callable[[Factory, int, Any], dict]


# --- text helpers (timestamps inside messages) ---------------------------------------------


def gunicorn_prefix(f: Factory, us: int, pid: int, level: str) -> str:
    return f"[{f.sec(us)} +0000] [{pid}] [{level}]"


def loguru(f: Factory, us: int, level: str, where: str, msg: str) -> str:
    return f"{f.sec(us)}.{us // 1000 % 1000:03d} | {level:<8} | {where} | {msg}"


def pylog(f: Factory, us: int, logger: str, level: str, msg: str) -> str:
    return f"{f.sec(us)} - {logger} - {level} - {msg}"


def pg_prefix(f: Factory, us: int, pid: int, line: int, db: str, user: str) -> str:
    return f"{f.sec(us)}.{us // 1000 % 1000:03d} UTC [{pid}]: [{line}-1] db={db},user={user} "


def json_ts(f: Factory, us: int) -> str:
    """Application-side timestamp in a jsonPayload (a few hundred µs before the entry)."""
    u = us - 400
    return f"{f.sec(u).replace(' ', 'T')}.{u % 1_000_000:06d}+00:00"


def latency(seconds: float) -> str:
    ns = int(seconds * 1e9)
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}s"


# --- resources ---------------------------------------------------------------------------


def run_resource(service: str, revision: str) -> dict:
    return {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": DEMO_PROJECT,
            "service_name": service,
            "revision_name": revision,
            "location": REGION,
            "configuration_name": service,
        },
    }


def service_resource(service: str) -> dict:
    """Service-level audit entries leave revision and configuration empty."""
    res = run_resource(service, "")
    res["labels"]["configuration_name"] = ""
    return res


def sql_resource() -> dict:
    return {
        "type": "cloudsql_database",
        "labels": {"project_id": DEMO_PROJECT, "database_id": SQL_DATABASE_ID, "region": REGION},
    }


# --- generic builders (arg tuples are prepared by the planners) ----------------------------


def run_text(f: Factory, us: int, arg: tuple) -> dict:
    """arg = (service, revision, instance, log, severity|None, text, container_name|None)."""
    service, revision, instance, log, severity, text, container = arg
    labels = {"instanceId": instance}
    if container:
        labels["container_name"] = container
    e = {
        "logName": LOG[log],
        "resource": run_resource(service, revision),
        "timestamp": f.iso(us),
        "receiveTimestamp": f.iso_receive(us),
    }
    if severity:  # DEFAULT is the proto3 zero value: the REST output leaves it out.
        e["severity"] = severity
    e["insertId"] = f.insert_id(us)
    e["labels"] = labels
    e["textPayload"] = text if isinstance(text, str) else text(f, us)
    return e


def run_json(f: Factory, us: int, arg: tuple) -> dict:
    """arg = (service, revision, instance, log, severity, payload dict without timestamp)."""
    service, revision, instance, log, severity, payload = arg
    body = dict(payload)
    body["timestamp"] = json_ts(f, us)
    return {
        "logName": LOG[log],
        "resource": run_resource(service, revision),
        "timestamp": f.iso(us),
        "receiveTimestamp": f.iso_receive(us),
        "severity": severity,
        "insertId": f.insert_id(us),
        "labels": {"instanceId": instance},
        "jsonPayload": body,
    }


def request_severity(status: int) -> str:
    return "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"


def run_request(f: Factory, us: int, arg: tuple) -> dict:
    """arg = (service, revision, instance, method, url, status, latency_s, user_agent, ip,
    request_size, response_size, text|None)."""
    service, revision, instance, method, url, status, lat, ua, ip, req, resp, text = arg
    rng = f.rng
    e = {
        "logName": LOG["requests"],
        "resource": run_resource(service, revision),
        "timestamp": f.iso(us),
        "receiveTimestamp": f.iso_receive(us),
        "severity": request_severity(status),
        "insertId": f.insert_id(us),
        "labels": {"instanceId": instance},
        "trace": f"{TRACE_PREFIX}{rng.getrandbits(128):032x}",
        "spanId": f"{rng.getrandbits(64) | 1:016x}",
        "httpRequest": {
            "requestMethod": method,
            "requestUrl": url,
            "requestSize": str(req),
            "status": status,
            "responseSize": str(resp),
            "userAgent": ua,
            "remoteIp": ip,
            "serverIp": SERVER_IP,
            "latency": latency(lat),
            "protocol": "HTTP/1.1",
        },
    }
    if text:
        e["textPayload"] = text
    return e


def sql_text(f: Factory, us: int, arg: tuple) -> dict:
    """arg = (severity, pid, line, db, user, message); the prefix matches the entry time."""
    severity, pid, line, db, user, message = arg
    return {
        "logName": LOG["postgres"],
        "resource": sql_resource(),
        "timestamp": f.iso(us),
        "receiveTimestamp": f.iso_receive(us),
        "severity": severity,
        "insertId": f.insert_id(us),
        "textPayload": pg_prefix(f, us, pid, line, db, user) + message,
    }


def audit_entry(f: Factory, us: int, arg: tuple) -> dict:
    """arg = (log key, resource, severity, protoPayload, operation|None)."""
    log, resource, severity, proto, operation = arg
    e = {
        "logName": LOG[log],
        "resource": resource,
        "timestamp": f.iso(us),
        "receiveTimestamp": f.iso_receive(us),
        "severity": severity,
        "insertId": f.audit_id(us),
        "protoPayload": proto,
    }
    if operation:
        e["operation"] = operation
    return e


def client_ip(rng: random.Random) -> str:
    net = "203.0.113." if rng.random() < 0.6 else "198.51.100."
    return net + str(1 + int(rng.random() * 253))
