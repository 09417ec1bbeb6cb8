"""Planner for planted entries: collects `(ts_us, builder, arg)` specs for incident sequences.

Incident modules describe what happens on which instance and when; the planner turns that into
entry specs. Texts that embed a clock (gunicorn, loguru, Python logging) are rendered here, from
the same microsecond the entry will carry.
"""

from __future__ import annotations

import random

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
from forensics.demo.model import Timeline
from forensics.demo.texts import (
    DEFAULT_HOST,
    EXIT_3,
    HOST,
    MALFORMED_503,
    PORT,
    PROBE_OK,
    START_AUTOSCALING,
    USER_AGENTS,
)


def container(service: str) -> str:
    return f"{service}-1"


class Planner:
    """Collects specs for one window; `at` values are absolute microseconds."""

    def __init__(self, tl: Timeline, seed: int) -> None:
        self.tl = tl
        self.rng = random.Random(f"demo-planted/{seed}")
        self.fmt = Factory(seed)  # only its clock formatting is used here
        self.specs: list[tuple] = []

    def s(self, seconds: float) -> int:
        """A duration in µs, shrunk with the window like everything planted (at least 1 µs)."""
        return max(1, self.tl.span(seconds))

    # --- entry kinds -----------------------------------------------------------------------

    def text(
        self,
        at: int,
        rev: tuple[str, str, str],
        log: str,
        severity: str | None,
        text: str,
        container_name: str | None = None,
    ) -> None:
        service, revision, inst = rev
        arg = (service, revision, inst, log, severity, text, container_name)
        self.specs.append((at, run_text, arg))

    def system(self, at: int, rev: tuple[str, str, str], severity: str, text: str) -> None:
        """A run.googleapis.com/varlog/system line about the service's container."""
        self.text(at, rev, "system", severity, text, container(rev[0]))

    def json(self, at: int, rev: tuple[str, str, str], severity: str, payload: dict) -> None:
        service, revision, inst = rev
        self.specs.append((at, run_json, (service, revision, inst, "stderr", severity, payload)))

    def request(
        self,
        at: int,
        rev: tuple[str, str, str],
        method: str,
        path: str,
        status: int,
        lat: float,
        text: str | None = None,
        ua: str | None = None,
    ) -> None:
        service, revision, inst = rev
        rng = self.rng
        url = HOST.get(service, DEFAULT_HOST) + path
        agent = ua or USER_AGENTS[int(rng.random() * len(USER_AGENTS))]
        req, resp = 280 + int(rng.random() * 900), 67 if status >= 500 else 95
        arg = (
            service,
            revision,
            inst,
            method,
            url,
            status,
            lat,
            agent,
            client_ip(rng),
            req,
            resp,
            text,
        )
        self.specs.append((at, run_request, arg))

    def sql(
        self, at: int, severity: str, pid: int, line: int, db: str, user: str, msg: str
    ) -> None:
        self.specs.append((at, sql_text, (severity, pid, line, db, user, msg)))

    # --- rendered texts --------------------------------------------------------------------

    def gunicorn(self, at: int, pid: int, level: str, msg: str) -> str:
        return f"{gunicorn_prefix(self.fmt, at, pid, level)} {msg}"

    def loguru(self, at: int, level: str, where: str, msg: str) -> str:
        return loguru(self.fmt, at, level, where, msg)

    def pylog(self, at: int, logger: str, level: str, msg: str) -> str:
        return pylog(self.fmt, at, logger, level, msg)

    # --- recurring sequences ---------------------------------------------------------------

    def boot(
        self, at: int, rev: tuple[str, str, str], reason: str = START_AUTOSCALING, worker: int = 13
    ) -> int:
        """Instance start, gunicorn boot and a passing TCP probe; returns the time after boot."""
        service, master = rev[0], worker - 1
        at += self.s(0.05 + 0.9 * self.rng.random())  # platforms never start on the second
        self.system(at, rev, "INFO", reason)
        t = at + self.s(1.8 + self.rng.random())
        for i, msg in enumerate(
            (
                "Starting gunicorn 23.0.0",
                f"Listening at: http://0.0.0.0:{PORT.get(service, 8000)} ({master})",
                "Using worker: uvicorn.workers.UvicornWorker",
            )
        ):
            line = self.gunicorn(t, master, "INFO", msg)
            self.text(t + i * self.s(0.0001), rev, "stderr", None, line)
        t += self.s(0.0005)
        line = self.gunicorn(t, master, "INFO", f"Booting worker with pid: {worker}")
        self.text(t, rev, "stderr", None, line)
        probe = PROBE_OK.format(c=container(service), p=PORT.get(service, 8000))
        self.system(t + self.s(0.0003), rev, "INFO", probe)
        return t + self.s(0.04)

    def gunicorn_exit_3(self, at: int, rev: tuple[str, str, str], worker: int = 13) -> int:
        """Worker exit 3 -> master shuts down -> `Container called exit(3).`; returns its time."""
        master = worker - 1
        lines = (
            (worker, "INFO", f"Worker exiting (pid: {worker})"),
            (master, "ERROR", f"Worker (pid:{worker}) exited with code 3"),
            (master, "ERROR", "Shutting down: Master"),
            (master, "ERROR", "Reason: Worker failed to boot."),
        )
        t = at
        for i, (pid, level, msg) in enumerate(lines):
            t = at + (self.s(0.38) if i else 0) + i * self.s(0.0008)
            self.text(t, rev, "stderr", None, self.gunicorn(t, pid, level, msg))
        t += self.s(0.08)
        self.system(t, rev, "WARNING", EXIT_3)
        return t

    def failed_requests(self, at: int, rev: tuple[str, str, str], count: int) -> int:
        """503s routed to an instance that just died (Cloud Run's malformed-response text)."""
        paths = ("/health", "/api/discovery/services", "/api/mcp/servers", "/api/threads", "/")
        t = at
        for _ in range(count):
            t += self.s(0.2 + self.rng.random() * 2.5)
            lat = 2.0 + self.rng.random() * 8.0
            path = paths[int(self.rng.random() * len(paths))]
            self.request(t, rev, "GET", path, 503, lat, text=MALFORMED_503)
        return t
