"""`make bench-http`: the panel's signed-in pages over real HTTP, against a bare-Django
control serving a page of the same shape, measured from outside.

gunicorn (2 sync workers) serves the panel (production settings on plain HTTP,
bench/load_settings.py) and, beside it, the control (bench/control_settings.py: the same
database and session, Django's default middleware only). Both use a throwaway database
on the PostgreSQL server of DATABASE_URL (required), dropped afterwards, and the Redis of
REDIS_URL when set (the cache, as in production: under a key prefix of the run's own).
One account (owning a team, as every account does) is signed in through the real
sign-in; wrk (Debian's package) then loads each page for WARM_UP seconds, unmeasured,
and then in alternating rounds: control, dashboard, Sessions tab, Security tab, control, ...

Reported per page: requests/s, p50 and p99 latency (wrk --latency) and server CPU per
request (utime + stime of the gunicorn processes from /proc, over the run, divided by its
requests), the medians over the rounds, and their ratios to the control's: the median
of each round's ratio to the control measured just before it. Targets (exit 1 if missed): CPU per
request within 1.15x of the control for the dashboard and 1.5x for the Sessions and
Security tabs; p99 within 1.3x of the control's. Writes the "http" section of
bench/results/latest.json. BENCH_HTTP_SECONDS (default 5) per run, BENCH_HTTP_ROUNDS
(default 5), BENCH_HTTP_CONNECTIONS (default 4).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.load import (  # noqa: E402 (the path above first)
    HOST,
    PASSWORD,
    RESULTS,
    USER_AGENT,
    USERNAME,
    Browser,
    Server,
    drop_postgres,
    free_port,
    prepare_database,
    server_environment,
    throwaway_postgres,
)

SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_HTTP_ROUNDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_HTTP_CONNECTIONS", "4"))
WARM_UP = 2  # seconds of each page before the rounds
PAGES = {
    "control": "/control/",
    "dashboard": "/dashboard/",
    "sessions": "/settings/sessions/",
    "security": "/settings/security/",
}
TARGETS = {"dashboard": 1.15, "sessions": 1.5, "security": 1.5}  # CPU per request
P99_TARGET = 1.3


def parse_wrk(output: str) -> dict[str, float]:
    """Requests, requests/s, p50 and p99 (ms) out of `wrk --latency` output."""

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": ms(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99": ms(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def run_wrk(port: int, path: str, cookie: str, seconds: float = SECONDS) -> str:
    return subprocess.run(
        [
            "wrk",
            "--latency",
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{max(int(seconds), 1)}s",
            "-H",
            f"Cookie: {cookie}",
            "-H",
            f"User-Agent: {USER_AGENT}",
            f"http://{HOST}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def wait_until_answering(server: Server, port: int, timeout: float = 60) -> None:
    """The control has no sign-in page: any HTTP answer from it means it is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {server.log}:\n{server.log.read_text()}")
        try:
            Browser(port, HOST).get("/control/")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the control did not answer in {timeout:.0f} s; see {server.log}")


def signed_in_cookie(port: int, device_cookies: dict[str, str]) -> str:
    """Sign in through the panel's real sign-in (a trusted device: no emailed code)."""
    browser = Browser(port, HOST, device_cookies)
    browser.get("/auth/login/")
    reply = browser.post("/auth/login/", {"username": USERNAME, "password": PASSWORD})
    if reply.status != 302 or reply.location != "/dashboard/":
        raise RuntimeError(f"the bench sign-in failed: {reply.status} {reply.location}")
    if browser.get("/dashboard/").status != 200:
        raise RuntimeError("the signed-in dashboard did not answer 200")
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def main() -> int:
    if not shutil.which("wrk"):
        print("make bench-http needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print(
            "make bench-http runs on PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr
        )
        return 2
    database_url, name = throwaway_postgres(url)
    tmp = Path(tempfile.mkdtemp(prefix="panel-bench-http-"))
    servers: dict[str, Server] = {}
    try:
        panel_port, control_port = free_port(), free_port()
        env = server_environment(tmp, panel_port, database_url)
        env["ALLOWED_HOSTS"] = HOST
        if os.environ.get("REDIS_URL"):
            # Production's cache (and the control's: the same settings underneath).
            env.update(
                REDIS_URL=os.environ["REDIS_URL"], BENCH_CACHE_PREFIX=f"bench{secrets.token_hex(4)}"
            )
        cookies = prepare_database(env)
        servers["panel"] = Server(env, panel_port, tmp / "panel.log")
        control_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.control_settings"}
        servers["control"] = Server(control_env, control_port, tmp / "control.log")
        servers["panel"].wait_ready()
        wait_until_answering(servers["control"], control_port)
        cookie = signed_in_cookie(panel_port, cookies["0:0"])
        # Each page for WARM_UP seconds before the rounds, unmeasured: a worker's first views
        # of a page compile its templates and prepare its statements, a start-up cost that
        # landed in the first round's p99 (the panel's pages have more templates than the
        # control's one).
        for page, path in PAGES.items():
            run_wrk(control_port if page == "control" else panel_port, path, cookie, WARM_UP)
        runs: dict[str, list[dict[str, float]]] = {page: [] for page in PAGES}
        for _ in range(ROUNDS):
            for page, path in PAGES.items():
                server = servers["control" if page == "control" else "panel"]
                port = control_port if page == "control" else panel_port
                before = server.cpu_seconds()
                result = parse_wrk(run_wrk(port, path, cookie))
                result["cpu_ms"] = (
                    (server.cpu_seconds() - before) * 1000 / max(result["requests"], 1)
                )
                runs[page].append(result)
    finally:
        for server in servers.values():
            server.stop()
        drop_postgres(url, name)

    summary = {
        page: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for page, results in runs.items()
    }
    # Ratios per round (each page against the control measured seconds before it), then
    # their median: the machine's speed drifts by a fifth over a minute, which a ratio of
    # medians taken minutes apart would count as the panel's.
    ratios = {
        page: {
            key: statistics.median(
                run[metric] / control_run[metric]
                for run, control_run in zip(results, runs["control"], strict=True)
            )
            for key, metric in (("cpu_ratio", "cpu_ms"), ("p99_ratio", "p99"))
        }
        for page, results in runs.items()
    }
    failures = []
    print(
        f"{'page':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'CPU x':>6} {'p99 x':>6}"
    )
    for page, figures in summary.items():
        cpu_ratio, p99_ratio = ratios[page]["cpu_ratio"], ratios[page]["p99_ratio"]
        figures["cpu_ratio"], figures["p99_ratio"] = cpu_ratio, p99_ratio
        print(
            f"{page:<10} {figures['rps']:>8.0f} {figures['p50']:>8.2f} {figures['p99']:>8.2f} "
            f"{figures['cpu_ms']:>11.2f} {cpu_ratio:>6.2f} {p99_ratio:>6.2f}"
        )
        if sum(r["errors"] for r in runs[page]):
            failures.append(f"{page}: non-2xx answers")
        if page in TARGETS and cpu_ratio > TARGETS[page]:
            failures.append(
                f"{page}: CPU per request {cpu_ratio:.2f}x the control (target {TARGETS[page]}x)"
            )
        if page != "control" and p99_ratio > P99_TARGET:
            failures.append(f"{page}: p99 {p99_ratio:.2f}x the control (target {P99_TARGET}x)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing["http"] = {"summary": summary, "runs": runs}
    RESULTS.write_text(json.dumps(existing, indent=2))
    for failure in failures:
        print("MISSED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
