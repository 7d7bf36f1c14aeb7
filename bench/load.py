"""`make bench-load`: 50 users signing in with 2FA and browsing, while one attacker
hammers one account and another sprays passwords over 100 usernames from many addresses.

Bounded and loopback only. The panel runs under gunicorn (2 sync workers) on
127.0.0.1:<free port> with production settings (bench/load_settings.py: bcrypt, lockout,
rate limits, session tracking, new-device approval) behind a simulated proxy
(TRUSTED_PROXY_COUNT=1: every client names its own address in X-Forwarded-For), on a
throwaway database created on the PostgreSQL server of DATABASE_URL (dropped afterwards;
SQLite without it) and the Redis of REDIS_URL (cache and rate-limit counters, under a
key prefix of this run's own; without it the database cache). Two phases, each
BENCH_PHASE_SECONDS (60 s):

1. baseline: BENCH_USERS (50) users, each with an authenticator (TOTP) and a trusted
   browser, sign in (password, then a fresh code), browse the dashboard, the Sessions
   tab and the Security tab BENCH_PAGES (15) times with ~BENCH_THINK_SECONDS (3 s) of
   think time, sign out, and again (a new sign-in waits for a new 30 s code);
2. attack: the same users, while BENCH_HAMMERERS (2) threads post wrong passwords for
   one account ("victim") from one address, and BENCH_SPRAYERS (2) threads post one
   common password for each of 100 other accounts, address after address (a new
   address whenever the current one is refused), all as fast as the server answers.

Checks (exit 1 if missed): no 5xx answer to anyone; no legitimate request failed; every
attacker attempt is in the audit trail (a password checked: a `signin` failure; refused
by the lock: a `signin` denied "locked"; over the sign-in rate: a `signin` denied
"rate_limited", once per address and minute) and every user sign-in too; the hammered
account's pair is locked with at most 6 of its passwords checked; no spraying address
gets more than 30 passwords a minute checked (the per-address sign-in rate; the spraying
addresses refused are reported). Reported:
the users' p50/p95 per kind of request in both phases and their ratio, the attackers'
answers, the server's CPU. Writes the "load" section of bench/results/latest.json.
"""

from __future__ import annotations

import base64
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
from dataclasses import dataclass
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
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_USERS", "50"))
HAMMERERS = int(os.environ.get("BENCH_HAMMERERS", "2"))
SPRAYERS = int(os.environ.get("BENCH_SPRAYERS", "2"))
SPRAYED = 100  # accounts the sprayer tries
PAGES_PER_VISIT = int(os.environ.get("BENCH_PAGES", "15"))
THINK_SECONDS = float(os.environ.get("BENCH_THINK_SECONDS", "3"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "20000"))
SIGNIN_RATE = 30  # SIGNIN_RATE_LIMIT of the production settings, per address and minute
BROWSE = ("/dashboard/", "/settings/sessions/", "/settings/security/")
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


def _maintenance(url: str) -> str:
    """The server's "postgres" database: the one DATABASE_URL names need not exist."""
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def throwaway_postgres(url: str) -> tuple[str, str]:
    """Create an empty database on the server DATABASE_URL names; return its URL and
    name."""
    import psycopg

    name = f"panel_bench_{secrets.token_hex(4)}"
    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_postgres(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
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
    # As every account does (teams.receivers), it owns a team: every signed-in page
    # reads its memberships for the team session policy.
    from teams import services as team_services

    team_services.team_create(name="Victim's team", owner=user)
    cookies = {}
    # Three sets: one per phase (each phase's browsers are new, with new addresses).
    for phase in range(3):
        for i in range(4):  # make bench-http's account: 12 trusted browsers, as always
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
                # The panel's own gunicorn settings (its frame-stack room), for the
                # control too: the same server, different applications.
                "-c",
                "python:panel.gunicorn_conf",
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

    def __init__(
        self,
        port: int,
        source_ip: str,
        cookies: dict[str, str] | None = None,
        forwarded_for: str = "",
    ):
        self.port = port
        self.source_ip = source_ip
        self.cookies = dict(cookies or {})
        # Behind the simulated proxy (TRUSTED_PROXY_COUNT=1): the address it saw.
        self.forwarded_for = forwarded_for

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
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
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
class Person:
    """A legitimate user: account, authenticator, trusted browser, address."""

    username: str
    key: bytes
    cookies: dict[str, str]
    address: str
    last_step: int = -1


def seed_users(env: dict[str, str]) -> tuple[list[Person], list[str]]:
    """Seed the legitimate users (with an authenticator and a trusted browser each) and
    the accounts the sprayer tries. One bcrypt hash is computed and reused: 150 hashes
    at cost 12 would take half a minute and measure nothing."""
    from django.contrib.auth.hashers import make_password
    from django.core import signing
    from django.db import connections
    from django.utils import timezone

    from accounts.models import User
    from security.devices import services as devices
    from security.models import TrustedDevice
    from security.twofactor.models import EncryptedTOTPDevice

    hashed = make_password(PASSWORD)
    now = timezone.now()
    people = []
    for i in range(USERS):
        username = f"user{i:02d}"
        user = User.objects.create(
            username=username,
            email=f"{username}@example.com",
            full_name=f"User {i}",
            email_verified_at=now,
            password=hashed,
        )
        key = secrets.token_bytes(20)
        device = EncryptedTOTPDevice(user=user, name="Authenticator app", confirmed=True)
        device.set_key(key)
        device.save()
        token = secrets.token_urlsafe(32)
        TrustedDevice.objects.create(
            user=user, token_hash=devices.token_hash(token), name="bench browser"
        )
        cookie = {devices.cookie_name(): signing.dumps(token, salt=devices.COOKIE_SALT)}
        people.append(Person(username, key, cookie, f"10.1.{i // 200}.{i % 200 + 10}"))
    sprayed = [f"staff{i:03d}" for i in range(SPRAYED)]
    User.objects.bulk_create(
        User(
            username=name,
            email=f"{name}@example.com",
            full_name=name,
            email_verified_at=now,
            password=hashed,
        )
        for name in sprayed
    )
    connections.close_all()
    return people, sprayed


class Tally:
    """What one phase's clients saw (threads append under the lock)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.unexpected: list[str] = []
        self.server_errors: list[str] = []
        self.signins = 0
        self.pages = 0
        # attacker -> address -> kind -> count
        self.attacks: dict[str, dict[str, dict[str, int]]] = {}
        self.attack_ms: dict[str, list[float]] = {}
        self.attack_requests = 0

    def legit(self, kind: str, reply: Reply, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(reply.ms)
            if reply.status >= 500:
                self.server_errors.append(f"user {kind}: {reply.status}")
            if not ok:
                self.unexpected.append(f"{kind}: {reply.status} {reply.location}".strip())

    def attack(self, who: str, address: str, reply: Reply) -> str:
        kind = attack_kind(reply)
        with self.lock:
            per = self.attacks.setdefault(who, {}).setdefault(address, {})
            per[kind] = per.get(kind, 0) + 1
            self.attack_ms.setdefault(who, []).append(reply.ms)
            if reply.status >= 500:
                self.server_errors.append(f"{who}: {reply.status}")
        return kind

    def take_attack_slot(self) -> bool:
        with self.lock:
            if self.attack_requests >= MAX_REQUESTS:
                return False
            self.attack_requests += 1
            return True


def attack_kind(reply: Reply) -> str:
    if reply.status == 429 and LOCKED_TEXT in reply.body:
        return "locked"
    if reply.status == 429 and RATELIMITED_TEXT in reply.body:
        return "rate_limited"
    if reply.status == 400:
        return "checked"
    return f"other {reply.status}"


def totp_code(person: Person) -> str:
    """A code of a time step this user has not used yet (a device accepts a step once):
    waits for the next step when the current one was used."""
    import pyotp

    authenticator = pyotp.TOTP(base64.b32encode(person.key).decode())
    step = int(time.time() // 30)
    if step <= person.last_step:
        time.sleep((person.last_step + 1) * 30 - time.time() + 0.05)
        step = int(time.time() // 30)
    person.last_step = step
    return authenticator.at(step * 30)


def visit(port: int, person: Person, tally: Tally, rng: random.Random, deadline: float) -> None:
    """Sign in with the password and a code, browse, sign out."""
    browser = Browser(port, HOST, person.cookies, forwarded_for=person.address)

    def think() -> None:
        time.sleep(THINK_SECONDS * rng.uniform(0.5, 1.5))

    reply = browser.get("/auth/login/")
    tally.legit("login_page", reply, reply.status == 200)
    reply = browser.post("/auth/login/", {"username": person.username, "password": PASSWORD})
    ok = reply.status == 302 and reply.location == "/auth/2fa/"
    tally.legit("signin_password", reply, ok)
    if not ok:
        return
    reply = browser.post("/auth/2fa/", {"method": "totp", "code": totp_code(person)})
    ok = reply.status == 302 and reply.location == "/dashboard/"
    tally.legit("signin_code", reply, ok)
    if not ok:
        browser.post("/auth/logout/", {})
        return
    with tally.lock:
        tally.signins += 1
    for n in range(PAGES_PER_VISIT):
        if time.monotonic() >= deadline:
            break
        think()
        path = BROWSE[n % len(BROWSE)]
        reply = browser.get(path)
        tally.legit("page", reply, reply.status == 200)
        with tally.lock:
            tally.pages += 1
    reply = browser.post("/auth/logout/", {})
    tally.legit("signout", reply, reply.status == 302)
    person.cookies = {k: v for k, v in browser.cookies.items() if "sessionid" not in k}


def run_phase(
    name: str, server: Server, people: list[Person], sprayed: list[str], *, attack: bool
) -> dict:
    from django.utils import timezone

    port = server.port
    tally = Tally()
    deadline = time.monotonic() + PHASE_SECONDS
    hammer_address = "10.66.0.1"
    spray_addresses = [f"10.99.{n // 250}.{n % 250 + 1}" for n in range(1000)]
    spray_next = {"address": 0, "account": 0}

    def user(i: int) -> None:
        rng = random.Random(i)  # think time, not a secret
        time.sleep(rng.uniform(0, min(10.0, PHASE_SECONDS / 4)))  # users arrive over 10 s
        while time.monotonic() < deadline:
            visit(port, people[i], tally, rng, deadline)

    def hammerer() -> None:
        browser = Browser(port, HOST, forwarded_for=hammer_address)
        browser.get("/auth/login/")  # the CSRF cookie, as a script would get it
        while time.monotonic() < deadline and tally.take_attack_slot():
            reply = browser.post("/auth/login/", {"username": USERNAME, "password": WRONG})
            tally.attack("hammerer", hammer_address, reply)

    def sprayer() -> None:
        while time.monotonic() < deadline:
            with tally.lock:
                address = spray_addresses[spray_next["address"] % len(spray_addresses)]
            browser = Browser(port, HOST, forwarded_for=address)
            browser.get("/auth/login/")
            while time.monotonic() < deadline and tally.take_attack_slot():
                with tally.lock:
                    account = sprayed[spray_next["account"] % len(sprayed)]
                    spray_next["account"] += 1
                reply = browser.post("/auth/login/", {"username": account, "password": WRONG})
                if tally.attack("sprayer", address, reply) != "checked":
                    with tally.lock:  # refused: the next address
                        if spray_addresses[spray_next["address"] % len(spray_addresses)] == address:
                            spray_next["address"] += 1
                    break

    since = timezone.now()
    cpu_before = server.cpu_seconds()
    client_cpu_before = time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(people))]
    if attack:
        threads += [threading.Thread(target=hammerer) for _ in range(HAMMERERS)]
        threads += [threading.Thread(target=sprayer) for _ in range(SPRAYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    client_cpu = time.process_time() - client_cpu_before

    everything = [ms for values in tally.latencies.values() for ms in values]
    result = {
        "seconds": round(elapsed, 2),
        "server_cpu_seconds": round(cpu, 2),
        # The clients run on the same two cores: their CPU is load on the server too.
        "client_cpu_seconds": round(client_cpu, 2),
        "server_errors": len(tally.server_errors),
        "server_error_examples": sorted(set(tally.server_errors))[:5],
        "legit": {
            "users": len(people),
            "signins": tally.signins,
            "pages": tally.pages,
            "all": summary(everything),
            **{kind: summary(values) for kind, values in sorted(tally.latencies.items())},
            "unexpected": len(tally.unexpected),
            "unexpected_examples": sorted(set(tally.unexpected))[:5],
        },
        "audit": reconcile(since, tally, people),
    }
    if attack:
        result["attack"] = {
            who: {
                "requests": sum(sum(k.values()) for k in per.values()),
                "addresses": len(per),
                "answers": totals(per),
                **summary(tally.attack_ms.get(who, [])),
            }
            for who, per in sorted(tally.attacks.items())
        }
        result["lockout"] = lockout_checks(since, tally, hammer_address)
    print_phase(name, result)
    return result


def summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(values),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
    }


def totals(per_address: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for kinds in per_address.values():
        for kind, count in kinds.items():
            out[kind] = out.get(kind, 0) + count
    return dict(sorted(out.items()))


def reconcile(since, tally: Tally, people: list[Person]) -> dict:
    """The phase's attempts against the audit trail, address by address.

    A password checked and refused is a ``signin`` failure; refused by the lock (the
    answer that reaches the limit is a checked password with the locked page) a
    ``signin`` denied "locked"; over the sign-in rate a ``signin`` denied
    "rate_limited", once per address and minute; a user's completed sign-in a
    ``signin`` success."""
    from django.db import connections
    from django.db.models import Count

    from audit.models import AuditEvent

    rows = (
        AuditEvent.objects.filter(action="signin", created_at__gte=since)
        .values("ip", "outcome", "metadata__reason")
        .annotate(n=Count("id"))
    )
    events: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (str(row["ip"]), row["outcome"], row["metadata__reason"] or "")
        events[key] = events.get(key, 0) + row["n"]
    user_addresses = {p.address for p in people}
    successes = sum(
        n for (ip, o, _), n in events.items() if o == "success" and ip in user_addresses
    )
    mismatches = []
    attempts = {"checked_or_locked": 0, "events": 0, "rate_limited": 0, "rate_limited_events": 0}
    for who, per in tally.attacks.items():
        for address, kinds in per.items():
            failed = events.get((address, "failure", "bad_credentials"), 0)
            locked = events.get((address, "denied", "locked"), 0)
            limited = events.get((address, "denied", "rate_limited"), 0)
            reached = kinds.get("checked", 0) + kinds.get("locked", 0)
            attempts["checked_or_locked"] += reached
            attempts["events"] += failed + locked
            attempts["rate_limited"] += kinds.get("rate_limited", 0)
            attempts["rate_limited_events"] += limited
            minutes = int(PHASE_SECONDS // 60) + 2
            if failed + locked != reached:
                mismatches.append(f"{who} {address}: {reached} attempts, {failed + locked} events")
            if kinds.get("rate_limited", 0) and not 1 <= limited <= minutes:
                mismatches.append(f"{who} {address}: rate-limited without its event")
    connections.close_all()
    return {
        "user_signins": tally.signins,
        "user_signin_events": successes,
        "attacker": attempts,
        "mismatches": mismatches[:10],
        "reconciled": not mismatches and successes == tally.signins,
    }


def lockout_checks(since, tally: Tally, hammer_address: str) -> dict:
    from django.db import connections
    from django.db.models import Count

    from audit.models import AuditEvent

    checked_victim = AuditEvent.objects.filter(
        action="signin",
        outcome="failure",
        created_at__gte=since,
        ip=hammer_address,
        metadata__login=USERNAME,
    ).count()
    locked = AuditEvent.objects.filter(
        action="lockout", created_at__gte=since, metadata__locked_ip=hammer_address
    ).exists()
    per_address = dict(
        AuditEvent.objects.filter(
            action="signin", outcome="failure", created_at__gte=since, ip__startswith="10.99."
        )
        .values_list("ip")
        .annotate(n=Count("id"))
    )
    connections.close_all()
    spray = tally.attacks.get("sprayer", {})
    refused = [a for a, kinds in spray.items() if kinds.get("rate_limited") or kinds.get("locked")]
    return {
        "hammered_account_password_checks": checked_victim,
        "hammered_pair_locked": locked,
        "hammerer_answers": totals(tally.attacks.get("hammerer", {})),
        "spray_addresses": len(spray),
        "spray_addresses_refused": len(refused),
        "spray_most_checks_one_address": max(per_address.values(), default=0),
    }


def print_phase(name: str, result: dict) -> None:
    legit = result["legit"]
    print(
        f"\n{name}: {result['seconds']:.1f} s, CPU: server {result['server_cpu_seconds']:.1f} s, "
        f"clients {result['client_cpu_seconds']:.1f} s; {legit['signins']} sign-ins with 2FA, "
        f"{legit['pages']} pages; {legit['unexpected']} user requests failed, "
        f"{result['server_errors']} 5xx"
    )
    print(f"  {'users':<18} {'requests':>8} {'median ms':>10} {'p95 ms':>8}")
    for kind in ("signin_password", "signin_code", "page", "all"):
        row = legit.get(kind, {"count": 0})
        if row["count"]:
            print(f"  {kind:<18} {row['count']:>8} {row['median_ms']:>10.1f} {row['p95_ms']:>8.1f}")
    for who, attack in result.get("attack", {}).items():
        print(
            f"  {who}: {attack['requests']} requests from {attack['addresses']} address(es), "
            f"median {attack.get('median_ms', 0):.1f} ms; {attack['answers']}"
        )
    if "lockout" in result:
        print(f"  lockout: {result['lockout']}")
    audit = result["audit"]
    print(
        f"  audit: {audit['user_signins']} user sign-ins / {audit['user_signin_events']} events; "
        f"attackers {audit['attacker']}; reconciled: {audit['reconciled']}"
    )


def main() -> int:
    tmp_dir = tempfile.TemporaryDirectory(prefix="panel-bench-load-")
    tmp = Path(tmp_dir.name)
    (tmp / "mail").mkdir()
    given = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
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
    env.update(TRUSTED_PROXY_COUNT="1", CELERY_TASK_ALWAYS_EAGER="true")
    if redis:
        env.update(REDIS_URL=redis, BENCH_CACHE_PREFIX=f"bench{secrets.token_hex(4)}")
    server = None
    try:
        prepare_database(env)
        people, sprayed = seed_users(env)
        print(
            f"gunicorn, 2 sync workers, {HOST}:{port}, {database}, "
            f"{'Redis' if redis else 'database cache'}; {USERS} users with 2FA, "
            f"{HAMMERERS} hammerer thread(s), {SPRAYERS} sprayer thread(s) over {SPRAYED} "
            f"accounts, {PHASE_SECONDS:g} s a phase; load average before: {load_before:.2f}"
        )
        server = Server(env, port, tmp / "gunicorn.log")
        server.wait_ready()
        # Warm-up, not counted: both workers load their templates, GeoIP and UA parser.
        warm = Tally()
        for person in people[:4]:
            visit(port, person, warm, random.Random(0), time.monotonic() + 1)
        phases = {
            "baseline": run_phase("baseline (no attackers)", server, people, sprayed, attack=False),
            "attack": run_phase("attack", server, people, sprayed, attack=True),
        }
    finally:
        if server is not None:
            server.stop()
        if pg_name:
            drop_postgres(given, pg_name)
        tmp_dir.cleanup()

    base, attacked = phases["baseline"]["legit"], phases["attack"]["legit"]
    ratios = {
        kind: {
            "median": round(attacked[kind]["median_ms"] / base[kind]["median_ms"], 2),
            "p95": round(attacked[kind]["p95_ms"] / base[kind]["p95_ms"], 2),
        }
        for kind in ("signin_password", "signin_code", "page", "all")
        if attacked.get(kind, {}).get("count") and base.get(kind, {}).get("count")
    }
    print("\nusers under attack, relative to the baseline:")
    for kind, values in ratios.items():
        print(f"  {kind:<18} median {values['median']:.2f}x  p95 {values['p95']:.2f}x")
    lock = phases["attack"]["lockout"]
    met = {
        "no_5xx": all(p["server_errors"] == 0 for p in phases.values()),
        "no_user_request_failed": all(p["legit"]["unexpected"] == 0 for p in phases.values()),
        "audit_reconciled": all(p["audit"]["reconciled"] for p in phases.values()),
        "hammered_pair_locked": lock["hammered_pair_locked"]
        and lock["hammered_account_password_checks"] <= FAILURE_LIMIT,
        # The per-address sign-in rate bounds what one spraying address gets checked:
        # 30 a minute (a phase spans at most two of the counter's windows). Whether an
        # address is refused at all depends on how fast the server answers the sprayer;
        # how many were is reported (lockout.spray_addresses_refused).
        "sprayer_bounded": lock["spray_most_checks_one_address"] <= 2 * SIGNIN_RATE,
    }
    load = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": database.split(" (")[0],
        "cache": "Redis" if redis else "database",
        "cpus": os.cpu_count(),
        # Other work on the machine shows here; the clients' own load is in each phase.
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "settings": {
            "users": USERS,
            "hammerers": HAMMERERS,
            "sprayers": SPRAYERS,
            "sprayed_accounts": SPRAYED,
            "phase_seconds": PHASE_SECONDS,
            "think_seconds": THINK_SECONDS,
            "pages_per_visit": PAGES_PER_VISIT,
        },
        "phases": phases,
        "users_under_attack_vs_baseline": ratios,
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
    print(f"\nchecks: {met}")
    print(f'written to {RESULTS.relative_to(BASE_DIR)} (section "load")')
    if not all(met.values()):
        print("a check was missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
