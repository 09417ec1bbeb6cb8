"""Normal staging traffic: the healthy bulk of the demo logs, including benign look-alikes.

Each hour gets a quota of entries. Planning draws only a timestamp and a kind per entry; the
builder draws the details when the entry is materialised, so an hour's plan is a list of small
tuples even for millions of entries. Look-alikes (socket paths in config dumps, INFO lines that
say "timeout", passing probes, ANSI colours, 4xx) are here on purpose: a classifier must not
flag them.
"""

from __future__ import annotations

import bisect
import random
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from forensics.demo.entries import (
    Factory,
    client_ip,
    gunicorn_prefix,
    loguru,
    pylog,
    run_json,
    run_request,
    run_text,
    sql_text,
)
from forensics.demo.model import (
    AUTH,
    BACKEND,
    FRONTEND,
    Timeline,
    pool_instances,
    revision_schedule,
)
from forensics.demo.texts import (
    ANSI_INFO,
    API,
    AUTH_LINES,
    AUTH_PATHS,
    BACKEND_JSON,
    CLIENT_ERRORS,
    CONFIG_DUMPS,
    DEFAULT_HOST,
    FRONTEND_PATHS,
    HOST,
    LOGURU_INFO,
    PROBE_OK,
    START_AUTOSCALING,
    UPTIME_UA,
    USER_AGENTS,
)

Plan = list[tuple[int, Callable, object]]
T = TypeVar("T")


def _pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


class NormalTraffic:
    """Builders and per-hour planner for the healthy traffic of the three services."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.schedule = revision_schedule(tl)
        self.pools = {
            rev: pool_instances(svc, rev) for svc, revs in self.schedule.items() for _, rev in revs
        }
        # (weight, entries per event, µs the event lasts, planner appending to the hour's plan)
        single = self._single
        kinds: list[tuple[float, int, int, Callable[[Plan, int, random.Random], None]]] = [
            (26, 1, 0, single(self.api_request)),
            (10, 1, 0, single(self.health_check)),
            (3, 1, 0, single(self.ws_session)),
            (2, 1, 0, single(self.client_error)),
            (9, 1, 0, single(self.frontend_request)),
            (6, 1, 0, single(self.auth_request)),
            (11, 1, 0, single(self.request_detail_json)),
            (6, 1, 0, single(self.access_line)),
            (5, 1, 0, single(self.loguru_line)),
            (3, 1, 0, single(self.httpx_line)),
            (4, 1, 0, single(self.auth_line)),
            (4, 1, 0, single(self.backend_json)),
            (1.5, 1, 0, single(self.config_dump)),
            (2, 2, 10_000, self._sql_connection),
            (0.4, 2, 31_000_000, self._sql_checkpoint),
            (0.15, 7, 10_000_000, self._instance_start),
        ]
        self.kinds = kinds
        total = sum(k[0] for k in kinds)
        acc, self.cum = 0.0, []
        for w, *_ in kinds:
            acc += w / total
            self.cum.append(acc)

    # --- planning --------------------------------------------------------------------------

    @staticmethod
    def _single(build: Callable) -> Callable[[Plan, int, random.Random], None]:
        def plan(out: Plan, us: int, _rng: random.Random) -> None:
            out.append((us, build, None))

        return plan

    def plan_hour(self, start_us: int, end_us: int, quota: int, rng: random.Random) -> Plan:
        out: Plan = []
        kinds, cum, length = self.kinds, self.cum, end_us - start_us
        last, random_ = len(kinds) - 1, rng.random
        remaining = quota
        while remaining > 0:
            _, size, lasts, plan = kinds[min(bisect.bisect_left(cum, random_()), last)]
            if size > remaining:  # keep the count exact: top up with single entries
                _, size, lasts, plan = kinds[0]
            plan(out, start_us + int(random_() * (length - lasts)), rng)
            remaining -= size
        return out

    def where(self, service: str, us: int, rng: random.Random) -> tuple[str, str]:
        revision = ""
        for since, rev in self.schedule[service]:
            if us >= since:
                revision = rev
        return revision, _pick(rng, self.pools[revision])

    # --- request logs ----------------------------------------------------------------------

    def _request(
        self,
        f: Factory,
        us: int,
        service: str,
        method: str,
        path: str,
        status: int,
        lat: float,
        ua: str,
        resp: int,
    ) -> dict:
        rng = f.rng
        revision, inst = self.where(service, us, rng)
        url = HOST.get(service, DEFAULT_HOST) + path
        arg = (
            service,
            revision,
            inst,
            method,
            url,
            status,
            lat,
            ua,
            client_ip(rng),
            250 + int(rng.random() * 900),
            resp,
            None,
        )
        return run_request(f, us, arg)

    def api_request(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        method, path, size = _pick(rng, API)
        lat = 0.003 + rng.random() ** 3 * 0.4
        return self._request(f, us, BACKEND, method, path, 200, lat, _pick(rng, USER_AGENTS), size)

    def health_check(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        path = "/health/ready" if rng.random() < 0.4 else "/health"
        lat = 0.002 + rng.random() * 0.02
        return self._request(f, us, BACKEND, "GET", path, 200, lat, UPTIME_UA, 1251)

    def ws_session(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        lat = 5 + rng.random() ** 2 * 3590  # the whole connection, as Cloud Run logs it
        return self._request(f, us, BACKEND, "GET", "/ws", 101, lat, _pick(rng, USER_AGENTS), 0)

    def client_error(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        method, path, status = _pick(rng, CLIENT_ERRORS)
        lat = 0.002 + rng.random() * 0.01
        return self._request(f, us, BACKEND, method, path, status, lat, "Netra-E2E-Tests/1.0", 95)

    def frontend_request(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        path, status = _pick(rng, FRONTEND_PATHS)
        lat = 0.004 + rng.random() * 0.08
        ua = USER_AGENTS[1]
        return self._request(f, us, FRONTEND, "GET", path, status, lat, ua, 18_432)

    def auth_request(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        method, path = _pick(rng, AUTH_PATHS)
        lat = 0.01 + rng.random() * 0.05
        return self._request(f, us, AUTH, method, path, 200, lat, "python-httpx/0.28.1", 512)

    # --- application logs -----------------------------------------------------------------

    def _text(self, f: Factory, us: int, service: str, log: str, text: str) -> dict:
        revision, inst = self.where(service, us, f.rng)
        return run_text(f, us, (service, revision, inst, log, None, text, None))

    def _json(self, f: Factory, us: int, log: str, severity: str, payload: dict) -> dict:
        revision, inst = self.where(BACKEND, us, f.rng)
        return run_json(f, us, (BACKEND, revision, inst, log, severity, payload))

    def request_detail_json(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        method, path, _ = _pick(rng, API)
        trace = uuid.UUID(int=rng.getrandbits(128), version=4)
        msg = (
            f"Request: {method} {path} | Status: 200 | Duration: {0.5 + rng.random() * 40:.2f}ms"
            f" | Trace: {trace}"
        )
        payload = {
            "context": {"name": "api"},
            "labels": {
                "function": "log_request_details",
                "line": "79",
                "module": "netra_backend.app.core.request_context",
            },
            "message": msg,
        }
        return self._json(f, us, "stderr", "INFO", payload)

    def access_line(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        method, path, _ = _pick(rng, API)
        text = (
            f'169.254.169.126:{1024 + int(rng.random() * 60000)} - "{method} {path} HTTP/1.1" 200'
        )
        return self._text(f, us, BACKEND, "stdout", text)

    def loguru_line(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        stamp = f"{f.sec(us)}.{us // 1000 % 1000:03d}"
        if rng.random() < 0.3:  # the August builds coloured their INFO lines
            method, path, _ = _pick(rng, API)
            msg = f"Request: {method} {path} | Status: 200 | Duration: {rng.random() * 30:.2f}ms"
            return self._text(f, us, BACKEND, "stderr", ANSI_INFO.format(ts=stamp, msg=msg))
        where, msg = _pick(rng, LOGURU_INFO)
        return self._text(
            f, us, BACKEND, "stderr", loguru(f, us, "INFO", where, f"<white>{msg}</white>")
        )

    def httpx_line(self, f: Factory, us: int, _arg: object) -> dict:
        rng = f.rng
        if rng.random() < 0.5:
            msg = (
                "HTTP Request: POST https://auth.staging.netrasystems.ai/auth/check-blacklist "
                '"HTTP/1.1 200 OK"'
            )
            text = pylog(f, us, "httpx", "INFO", msg)
        else:
            msg = _pick(
                rng,
                (
                    "Validating token with auth service at: https://auth.staging.netrasystems.ai",
                    "Token validation successful",
                ),
            )
            text = pylog(f, us, "netra_backend.app.clients.auth_client_core", "INFO", msg)
        return self._text(f, us, BACKEND, "stderr", text)

    def auth_line(self, f: Factory, us: int, _arg: object) -> dict:
        line = _pick(f.rng, AUTH_LINES)
        text = f"{f.sec(us)},{us // 1000 % 1000:03d} - netra-service - {line}"
        return self._text(f, us, AUTH, "stdout", text)

    def backend_json(self, f: Factory, us: int, _arg: object) -> dict:
        severity, msg = _pick(f.rng, BACKEND_JSON)
        payload = {
            "labels": {"function": "callHandlers", "line": "1706", "module": "logging"},
            "message": msg,
        }
        return self._json(f, us, "stderr", severity, payload)

    def config_dump(self, f: Factory, us: int, _arg: object) -> dict:
        """The SSOT logger's odd stdout shape, printing DB settings (sockets and timeouts)."""
        msg = _pick(f.rng, CONFIG_DUMPS)
        payload = {
            "error": {
                "message": "Missing field",
                "severity": "ERROR",
                "traceback": "",
                "type": "str",
            },
            "logger": "logging",
            "message": msg,
            "service": "netra-service",
            "textPayload": msg,
            "validation": {
                "message_length": len(msg),
                "severity": "INFO",
                "zero_empty_guarantee": True,
            },
        }
        return self._json(f, us, "stdout", "INFO", payload)

    # --- multi-entry events (planned with their details) -----------------------------------

    def _sql_connection(self, out: Plan, us: int, rng: random.Random) -> None:
        pid = 100_000 + int(rng.random() * 800_000)
        port = 30_000 + int(rng.random() * 30_000)
        out.append(
            (
                us,
                sql_text,
                (
                    "INFO",
                    pid,
                    1,
                    "[unknown]",
                    "[unknown]",
                    f"LOG:  connection received: host=127.0.0.1 port={port}",
                ),
            )
        )
        db, user = _pick(rng, (("netra_staging", "netra_app"), ("netra_auth", "netra_auth")))
        out.append(
            (
                us + 2_100,
                sql_text,
                (
                    "INFO",
                    pid,
                    2,
                    db,
                    user,
                    f"LOG:  connection authorized: user={user} "
                    f"database={db} SSL enabled (protocol=TLSv1.3)",
                ),
            )
        )

    def _sql_checkpoint(self, out: Plan, us: int, rng: random.Random) -> None:
        pid = 1_000 + int(rng.random() * 9_000)
        buffers = 50 + int(rng.random() * 900)
        out.append((us, sql_text, ("INFO", pid, 1, "", "", "LOG:  checkpoint starting: time")))
        done = (
            f"LOG:  checkpoint complete: wrote {buffers} buffers (0.{buffers % 10}%); "
            f"0 WAL file(s) added, 0 removed, 1 recycled; write={buffers / 10:.3f} s, "
            f"sync=0.004 s, total={buffers / 10 + 0.01:.3f} s"
        )
        out.append((us + 30_000_000, sql_text, ("INFO", pid, 2, "", "", done)))

    def _instance_start(self, out: Plan, us: int, rng: random.Random) -> None:
        """An autoscaling start that goes well: start, gunicorn boot, probe OK, startup complete."""
        service = BACKEND if rng.random() < 0.7 else AUTH
        revision, inst = self.where(service, us, rng)
        port = 8000 if service == BACKEND else 8080

        def add(at: int, log: str, severity: str | None, text, container: bool = False) -> None:
            name = f"{service}-1" if container else None
            out.append((at, run_text, (service, revision, inst, log, severity, text, name)))

        add(us, "system", "INFO", START_AUTOSCALING, True)
        t = us + 2_000_000
        for k, msg in enumerate(
            (
                "Starting gunicorn 23.0.0",
                f"Listening at: http://0.0.0.0:{port} (12)",
                "Using worker: uvicorn.workers.UvicornWorker",
                "Booting worker with pid: 13",
            )
        ):
            add(t + k * 100, "stderr", None, _gunicorn_text(12, "INFO", msg))
        add(t + 500, "system", "INFO", PROBE_OK.format(c=f"{service}-1", p=port), True)
        add(
            t + 7_000_000,
            "stderr",
            None,
            _gunicorn_text(13, "INFO", "Application startup complete."),
        )


def _gunicorn_text(pid: int, level: str, msg: str) -> Callable[[Factory, int], str]:
    """Deferred text: the clock in the line is rendered from the entry's own timestamp."""

    def render(f: Factory, us: int) -> str:
        return f"{gunicorn_prefix(f, us, pid, level)} {msg}"

    return render
