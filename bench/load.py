"""`make bench-load`: legitimate users' latency while attackers hammer the sign-in form.

Bounded and loopback only. The panel runs under gunicorn (2 sync workers) on
127.0.0.1:<free port> with production settings (bench/load_settings.py: bcrypt, lockout,
rate limits, session tracking) against a throwaway SQLite database, or a throwaway
database created on the PostgreSQL server of DATABASE_URL when that is set (dropped
afterwards). One account is seeded; every client connects from its own loopback
address (127.0.x.y, all routed to 127.0.0.1), so that the per-(IP, username) lockout
and the per-IP rate limit see one address per browser. Phases, each BENCH_PHASE_SECONDS
(10 s) long and capped at BENCH_MAX_REQUESTS attacker requests:

1. baseline: BENCH_USERS (4) legitimate browsers, each with a trusted device, sign in
   as the account, view the dashboard three times and sign out, with ~0.2 s of think
   time between requests;
2. attack: the same, while BENCH_ATTACKERS (4) threads post wrong passwords for the same
   account from one address, as fast as the server answers. After 6 failures the pair
   is locked (429, no password hash), after 30 POSTs a minute the address is
   rate-limited (429);
3. attack without lockout: a second server with the lockout and rate-limit thresholds
   out of reach (BENCH_LOCKOUT=off): what the same attack costs when every wrong
   password is checked with bcrypt.

Reported per phase: the legitimate users' median and p95 latency (sign-in POST,
dashboard GET, all requests), their failed or diverted requests, the attackers'
responses by kind and latency, and the CPU seconds the gunicorn processes used. Checks
(exit 1 if missed): no legitimate request fails in any phase, and with the lockout the
attacker gets at most 6 password checks: each sign-in reserves one of the pair's six
attempt slots atomically before its password is hashed, so requests already in flight
when the lock lands cannot add checks of their own. Writes the "load" section of bench/results/latest.json.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
RESULTS = BASE_DIR / "bench" / "results" / "latest.json"

HOST = "127.0.0.1"
PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a throwaway bench account
WRONG = "not the password at all"
USERNAME = "victim"
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "10"))
USERS = int(os.environ.get("BENCH_USERS", "4"))
ATTACKERS = int(os.environ.get("BENCH_ATTACKERS", "4"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "10000"))
THINK_SECONDS = 0.2
DASHBOARD_VIEWS = 3
FAILURE_LIMIT = 6  # AXES_FAILURE_LIMIT of the production settings
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
LOCKED_TEXT = b"Too many failed attempts"
RATELIMITED_TEXT = b"You have made too many requests"


def loopback(block: int, host: int) -> str:
    """A loopback source address; Linux routes all of 127.0.0.0/8 to this machine."""
    return f"127.0.{block}.{host}"


# --- The environment of the server (and of this process, which prepares the database) ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def throwaway_postgres(url: str) -> tuple[str, str]:
    """Create an empty database next to the one DATABASE_URL names; return its URL and
    name."""
    import psycopg

    name = f"panel_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(tmp: Path, port: int, database_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "CELERY_TASK_ALWAYS_EAGER")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.load_settings",
        PANEL_DOTENV="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=HOST,
        SITE_URL=f"http://{HOST}:{port}",
        DATABASE_URL=database_url,
        EMAIL_URL=f"file://{tmp / 'mail'}",  # Celery runs eagerly: mail lands in files
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def prepare_database(env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Migrate, seed the account and one trusted device per legitimate browser. Returns
    each browser's starting cookies (its device cookie)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core import signing
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from accounts.models import User
    from security.devices import services as devices
    from security.models import TrustedDevice

    call_command("migrate", verbosity=0, interactive=False, skip_checks=True)
    call_command("createcachetable", verbosity=0)
    user = User(
        username=USERNAME,
        email=f"{USERNAME}@example.com",
        full_name="Victim",
        email_verified_at=timezone.now(),
    )
    user.set_password(PASSWORD)
    user.save()
    assert user.password.startswith("bcrypt_sha256$"), user.password
    cookies = {}
    # Three sets: one per phase (each phase's browsers are new, with new addresses).
    for phase in range(3):
        for i in range(USERS):
            token = secrets.token_urlsafe(32)
            TrustedDevice.objects.create(
                user=user, token_hash=devices.token_hash(token), name=f"bench browser {i}"
            )
            cookies[f"{phase}:{i}"] = {
                devices.cookie_name(): signing.dumps(token, salt=devices.COOKIE_SALT)
            }
    connections.close_all()
    return cookies


def password_checks_on_account(since) -> int:
    """Failed password checks recorded for the account since ``since`` (audit trail)."""
    from django.db import connections

    from audit.models import AuditEvent

    count = AuditEvent.objects.filter(
        action="signin",
        outcome=AuditEvent.Outcome.FAILURE,
        created_at__gte=since,
        metadata__login=USERNAME,
    ).count()
    connections.close_all()
    return count


# --- The server ------------------------------------------------------------------------


class Server:
    """gunicorn, 2 sync workers, on 127.0.0.1:<port>; started and stopped by its pid."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "panel.wsgi:application",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--bind",
                f"{HOST}:{port}",
                "--chdir",
                str(BASE_DIR),
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}:\n{self.log.read_text()}")
            try:
                if Browser(self.port, HOST).get("/auth/login/").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout:.0f} s; see {self.log}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the master and its workers so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.process.pid, *self._children()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def _children(self) -> list[int]:
        pid = self.process.pid
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's graceful shutdown (SIGTERM to the master)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


# --- The clients -------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    location: str
    body: bytes
    ms: float


class Browser:
    """One browser: its own loopback source address, its own cookies, a new connection per
    request (gunicorn's sync workers close each one)."""

    def __init__(self, port: int, source_ip: str, cookies: dict[str, str] | None = None):
        self.port = port
        self.source_ip = source_ip
        self.cookies = dict(cookies or {})

    def csrf_token(self) -> str:
        for name, value in self.cookies.items():
            if name.endswith("csrftoken"):
                return value
        return ""

    def get(self, path: str) -> Reply:
        return self._request("GET", path, None)

    def post(self, path: str, form: dict[str, str]) -> Reply:
        return self._request("POST", path, {"csrfmiddlewaretoken": self.csrf_token(), **form})

    def _request(self, method: str, path: str, form: dict[str, str] | None) -> Reply:
        headers = {"Host": f"{HOST}:{self.port}", "User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(
            HOST, self.port, timeout=120, source_address=(self.source_ip, 0)
        )
        try:
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - start) * 1000
            for header in response.headers.get_all("Set-Cookie") or []:
                self._store(header)
            return Reply(response.status, response.getheader("Location", ""), data, elapsed)
        finally:
            conn.close()

    def _store(self, header: str) -> None:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


@dataclass
class Tally:
    """What one phase's clients saw (threads append; lists are thread-safe for this)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    attacker_ms: list[float] = field(default_factory=list)
    attacker_kinds: dict[str, int] = field(default_factory=dict)
    cycles: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def legit(self, kind: str, reply: Reply, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(reply.ms)
            if not ok:
                self.unexpected.append(f"{kind}: {reply.status} {reply.location}".strip())

    def attack(self, reply: Reply) -> None:
        if reply.status == 429 and LOCKED_TEXT in reply.body:
            kind = "429 locked"
        elif reply.status == 429 and RATELIMITED_TEXT in reply.body:
            kind = "429 rate-limited"
        elif reply.status == 400:
            kind = "400 form again (password checked)"
        else:
            kind = f"{reply.status} other"
        with self.lock:
            self.attacker_ms.append(reply.ms)
            self.attacker_kinds[kind] = self.attacker_kinds.get(kind, 0) + 1


def legit_cycle(browser: Browser, tally: Tally | None, rng: random.Random) -> None:
    """Sign in, view the dashboard, sign out; ``tally`` None for a warm-up."""

    def note(kind: str, reply: Reply, ok: bool) -> None:
        if tally is not None:
            tally.legit(kind, reply, ok)

    def think() -> None:
        time.sleep(THINK_SECONDS * rng.uniform(0.5, 1.5))

    reply = browser.get("/auth/login/")
    note("login_page", reply, reply.status == 200)
    think()
    reply = browser.post("/auth/login/", {"username": USERNAME, "password": PASSWORD})
    signed_in = reply.status == 302 and reply.location == "/dashboard/"
    note("signin", reply, signed_in)
    if not signed_in:
        browser.post("/auth/logout/", {})  # ends a diverted (pending) sign-in too
        return
    for _ in range(DASHBOARD_VIEWS):
        think()
        reply = browser.get("/dashboard/")
        note("dashboard", reply, reply.status == 200 and b"Welcome" in reply.body)
    think()
    reply = browser.post("/auth/logout/", {})
    note("signout", reply, reply.status == 302)
    if tally is not None:
        with tally.lock:
            tally.cycles += 1
    think()


def run_phase(
    name: str,
    server: Server,
    cookies: dict[str, dict[str, str]],
    *,
    phase: int,
    attackers: int,
) -> dict:
    port = server.port
    browsers = [
        Browser(port, loopback(10 + phase, 10 + i), cookies[f"{phase}:{i}"]) for i in range(USERS)
    ]
    rng = random.Random(phase)  # think time, not a secret
    # Warm-up: one cycle each (both workers load their templates), not counted.
    for browser in browsers:
        legit_cycle(browser, None, rng)

    tally = Tally()
    sent = {"attacker": 0}
    deadline = time.monotonic() + PHASE_SECONDS
    attacker_ip = loopback(99, 10 + phase)  # one address for all attacker threads

    def user(i: int) -> None:
        thread_rng = random.Random(phase * 100 + i)
        while time.monotonic() < deadline:
            legit_cycle(browsers[i], tally, thread_rng)

    def attacker() -> None:
        browser = Browser(port, attacker_ip)
        browser.get("/auth/login/")  # the CSRF cookie, as a script would get it
        while time.monotonic() < deadline:
            with tally.lock:
                if sent["attacker"] >= MAX_REQUESTS:
                    return
                sent["attacker"] += 1
            tally.attack(browser.post("/auth/login/", {"username": USERNAME, "password": WRONG}))

    from django.utils import timezone

    since = timezone.now()
    cpu_before = server.cpu_seconds()
    client_cpu_before = time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(USERS)]
    threads += [threading.Thread(target=attacker) for _ in range(attackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    client_cpu = time.process_time() - client_cpu_before

    def summary(values: list[float]) -> dict:
        if not values:
            return {"count": 0}
        ordered = sorted(values)
        return {
            "count": len(values),
            "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        }

    everything = [ms for values in tally.latencies.values() for ms in values]
    result = {
        "seconds": round(elapsed, 2),
        "server_cpu_seconds": round(cpu, 2),
        # The clients run on the same two cores: their CPU is load on the server too.
        "client_cpu_seconds": round(client_cpu, 2),
        "legit": {
            "browsers": USERS,
            "cycles": tally.cycles,
            "all": summary(everything),
            **{kind: summary(values) for kind, values in sorted(tally.latencies.items())},
            "unexpected": len(tally.unexpected),
            "unexpected_examples": sorted(set(tally.unexpected))[:5],
        },
    }
    if attackers:
        result["attack"] = {
            "threads": attackers,
            "address": attacker_ip,
            "requests": len(tally.attacker_ms),
            "per_second": round(len(tally.attacker_ms) / elapsed, 1),
            **summary(tally.attacker_ms),
            "responses": dict(sorted(tally.attacker_kinds.items())),
            "password_checks": password_checks_on_account(since),
        }
    print_phase(name, result)
    return result


def print_phase(name: str, result: dict) -> None:
    legit = result["legit"]
    print(
        f"\n{name}: {result['seconds']:.1f} s, CPU: server {result['server_cpu_seconds']:.1f} s, "
        f"clients {result['client_cpu_seconds']:.1f} s; {legit['cycles']} sign-in cycles, "
        f"{legit['unexpected']} legitimate requests failed"
    )
    print(f"  {'legitimate users':<22} {'requests':>8} {'median ms':>10} {'p95 ms':>8}")
    for kind in ("signin", "dashboard", "all"):
        row = legit.get(kind, {"count": 0})
        if row["count"]:
            print(f"  {kind:<22} {row['count']:>8} {row['median_ms']:>10.1f} {row['p95_ms']:>8.1f}")
    attack = result.get("attack")
    if attack:
        print(
            f"  attackers: {attack['requests']} requests ({attack['per_second']}/s) from "
            f"{attack['address']}, median {attack.get('median_ms', 0):.1f} ms, "
            f"p95 {attack.get('p95_ms', 0):.1f} ms, {attack['password_checks']} password checks"
        )
        for kind, count in attack["responses"].items():
            print(f"    {kind:<36} {count:>6}")


def main() -> int:
    tmp_dir = tempfile.TemporaryDirectory(prefix="panel-bench-load-")
    tmp = Path(tmp_dir.name)
    (tmp / "mail").mkdir()
    given = os.environ.get("DATABASE_URL", "")
    pg_name = ""
    if given.startswith(("postgres://", "postgresql://")):
        database_url, pg_name = throwaway_postgres(given)
        database = f"PostgreSQL (throwaway database {pg_name})"
    else:
        database_url = f"sqlite:///{tmp / 'load.sqlite3'}"
        database = "SQLite (throwaway file)"
    port = free_port()
    load_before = os.getloadavg()[0]
    env = server_environment(tmp, port, database_url)
    servers: list[Server] = []
    try:
        cookies = prepare_database(env)
        print(
            f"gunicorn, 2 sync workers, {HOST}:{port}, {database}; {USERS} users, "
            f"{ATTACKERS} attacker threads, {PHASE_SECONDS:g} s a phase"
        )
        server = Server(env, port, tmp / "gunicorn.log")
        servers.append(server)
        server.wait_ready()
        phases = {
            "baseline": run_phase("baseline", server, cookies, phase=0, attackers=0),
            "attack": run_phase("attack", server, cookies, phase=1, attackers=ATTACKERS),
        }
        server.stop()

        unprotected = Server({**env, "BENCH_LOCKOUT": "off"}, port, tmp / "gunicorn.log")
        servers.append(unprotected)
        unprotected.wait_ready()
        phases["attack_without_lockout"] = run_phase(
            "attack without lockout (counterfactual server)",
            unprotected,
            cookies,
            phase=2,
            attackers=ATTACKERS,
        )
    finally:
        for server in servers:
            server.stop()
        if pg_name:
            drop_postgres(given, pg_name)
        tmp_dir.cleanup()

    base = phases["baseline"]["legit"]
    ratios = {}
    for phase in ("attack", "attack_without_lockout"):
        legit = phases[phase]["legit"]
        ratios[phase] = {
            kind: round(legit[kind]["median_ms"] / base[kind]["median_ms"], 2)
            for kind in ("signin", "dashboard", "all")
            if legit.get(kind, {}).get("count") and base.get(kind, {}).get("count")
        }
    # Server CPU an attacker request cost: the phase's CPU less what its sign-in cycles
    # cost in the baseline, over the attacker's requests (an estimate).
    per_cycle = phases["baseline"]["server_cpu_seconds"] / max(1, base["cycles"])
    for phase in ("attack", "attack_without_lockout"):
        result = phases[phase]
        extra = result["server_cpu_seconds"] - per_cycle * result["legit"]["cycles"]
        result["attack"]["server_cpu_ms_per_request_estimate"] = round(
            max(0.0, extra) * 1000 / max(1, result["attack"]["requests"]), 1
        )
    print("\nserver CPU per attacker request (estimate: phase CPU less the baseline cost of")
    print("the phase's sign-in cycles, over the attacker's requests):")
    for phase in ("attack", "attack_without_lockout"):
        estimate = phases[phase]["attack"]["server_cpu_ms_per_request_estimate"]
        print(f"  {phase:<24} {estimate:.1f} ms")
    attack = phases["attack"]["attack"]
    checks = {
        "legit_requests_failed": sum(p["legit"]["unexpected"] for p in phases.values()),
        "attacker_password_checks_with_lockout": attack["password_checks"],
    }
    # Exactly the threshold: the count-and-lock is atomic (security.lockout.policy.reserve).
    allowed_checks = FAILURE_LIMIT
    met = {
        "no_legit_request_failed": checks["legit_requests_failed"] == 0,
        "attacker_password_checks_with_lockout": attack["password_checks"] <= allowed_checks,
    }
    print("\nlegitimate users' median latency, relative to the baseline:")
    for phase, values in ratios.items():
        print(f"  {phase:<24} " + "  ".join(f"{k} {v:.2f}x" for k, v in values.items()))

    load = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": database.split(" (")[0],
        "cpus": os.cpu_count(),
        # Other work on the machine shows here; the clients' own load is in each phase.
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "settings": {
            "users": USERS,
            "attackers": ATTACKERS,
            "phase_seconds": PHASE_SECONDS,
            "think_seconds": THINK_SECONDS,
            "max_attacker_requests": MAX_REQUESTS,
        },
        "phases": phases,
        "legit_median_vs_baseline": ratios,
        "checks": checks,
        "targets": {
            "no_legit_request_failed": "0 failed",
            "attacker_password_checks_with_lockout": f"<= {allowed_checks}",
        },
        "met": met,
    }
    previous = {}
    if RESULTS.exists():
        try:
            previous = json.loads(RESULTS.read_text())
        except ValueError:
            previous = {}
    previous["load"] = load
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f'written to {RESULTS.relative_to(BASE_DIR)} (section "load")')
    if not all(met.values()):
        print(f"a check was missed: {met}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
