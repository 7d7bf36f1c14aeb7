"""`make bench-audit`: the operations pages at 1,000,000 audit events, on PostgreSQL.

Needs DATABASE_URL to name a PostgreSQL server: a throwaway database is created next to
the one it names (dropped afterwards), migrated, and seeded with 1,000 accounts and
1,000,000 audit events spread over 60 days (one INSERT ... SELECT generate_series; the
mix of actions, outcomes and addresses is in ``SEED_SQL``), then VACUUM ANALYZEd (as
autovacuum would after the insert). Without a
PostgreSQL DATABASE_URL it says so and exits 0 (SQLite is not what production runs).

Measured through the test client with production middleware, signed in as a superuser,
each a median of ``ROUNDS`` requests after a warm-up (targets from issue 12):

- the filtered audit page (action + outcome + network; and by user): < 100 ms;
- the CSV export of a filtered set, time to the first event row (header + one row):
  < 200 ms;
- the 30-day security dashboard: < 500 ms;
- the same for one team (1 in 20 events carries its id; 50 of the 1,000 accounts are
  its members), read by its Owner: the team audit page filtered, and the team's 30-day
  dashboard over its members (same targets).

Writes the "audit" section of bench/results/latest.json; exits 1 if a target is missed.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "15"))
TARGETS_MS = {
    "audit_page": 100,
    "audit_page_by_user": 100,
    "csv_first_row": 200,
    "dashboard_30d": 500,
    "team_audit_page": 100,
    "team_dashboard_30d": 500,
}

SEED_SQL = """
INSERT INTO security_auditevent
    (created_at, action, outcome, actor_id, user_id, impersonator_id, team_id, ip,
     user_agent, metadata)
SELECT
    now() - (random() * interval '60 days'),
    (ARRAY['signin','signin','signin','signin','signin','signout','2fa_failed',
           'device_trusted','password_changed','lockout','suspicious_signin_held',
           'session_timed_out','password_reset'])[1 + floor(random() * 13)::int],
    (ARRAY['success','success','success','failure','denied'])[1 + floor(random() * 5)::int],
    base.m + (g %% 1000), base.m + ((g * 7) %% 1000), NULL,
    CASE WHEN g %% 20 = 0 THEN %(team)s ELSE NULL END,
    ('203.0.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int)::inet,
    'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0',
    '{"method": "password"}'::jsonb
FROM generate_series(1, %(events)s) AS g,
     (SELECT min(id) AS m FROM accounts_user WHERE username LIKE 'user%%') AS base
"""


def throwaway(url: str) -> tuple[str, str]:
    import psycopg

    name = f"panel_bench_audit_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}")), name


def drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_ms(fn, rounds: int = ROUNDS) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1)


def run() -> dict:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import User

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    unusable = make_password(None)  # nobody signs in with a password here
    User.objects.bulk_create(
        User(username=f"user{n}", email=f"user{n}@example.com", password=unusable)
        for n in range(1000)
    )
    root = User.objects.create(
        username="root",
        email="root@example.com",
        is_staff=True,
        is_superuser=True,
        password=unusable,
    )
    from teams import catalog
    from teams.models import Membership, Role, Team

    catalog.ensure()
    team = Team.objects.create(name="Bench team")
    owner_role = Role.objects.get(team__isnull=True, name=Role.OWNER)
    developer = Role.objects.get(team__isnull=True, name=Role.DEVELOPER)
    owner = User.objects.get(username="user0")
    Membership.objects.create(team=team, user=owner, role=owner_role)
    Membership.objects.bulk_create(
        Membership(team=team, user=user, role=developer)
        for user in User.objects.filter(username__startswith="user").exclude(pk=owner.pk)[:49]
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, {"events": EVENTS, "team": team.pk})
        # What autovacuum does to an append-only table after a bulk insert (PostgreSQL 13+
        # vacuums on inserts too): statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE security_auditevent")
        cursor.execute("ANALYZE")
    seeded = round(time.perf_counter() - started, 1)
    client = Client(REMOTE_ADDR="198.51.100.1")
    client.force_login(root)

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response

    def csv_first_row():
        response = client.get("/operations/audit/export.csv?action=signin&outcome=failure")
        chunks = iter(response.streaming_content)
        next(chunks)  # the header
        next(chunks)  # the first event
        response.close()

    results = {
        "events": EVENTS,
        "seed_seconds": seeded,
        "audit_page": median_ms(
            lambda: get("/operations/audit/?action=signin&outcome=failure&ip=203.0.113.0/24")
        ),
        "audit_page_by_user": median_ms(lambda: get("/operations/audit/?user=user42")),
        "csv_first_row": median_ms(csv_first_row),
        "dashboard_30d": median_ms(lambda: get("/operations/metrics/?window=30d"), rounds=5),
    }
    member = Client(REMOTE_ADDR="198.51.100.2")
    member.force_login(owner)

    def team_get(path):
        response = member.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response

    results["team_audit_page"] = median_ms(
        lambda: team_get(f"/teams/{team.pk}/events/?action=signin&outcome=failure")
    )
    results["team_dashboard_30d"] = median_ms(
        lambda: team_get(f"/teams/{team.pk}/metrics/?window=30d"), rounds=5
    )
    return results


def main() -> int:
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith(("postgres://", "postgresql://")):
        print("bench-audit: set DATABASE_URL to a PostgreSQL server (postgres://...) to run it.")
        return 0
    url, name = throwaway(given)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="panel.settings.test",
        PANEL_DOTENV="0",
        FAIL2BAN_LOG="",
    )
    for key in ("REDIS_URL", "EMAIL_URL"):
        os.environ.pop(key, None)
    try:
        results = run()
    finally:
        drop(given, name)
    missed = [k for k, limit in TARGETS_MS.items() if results[k] >= limit]
    print(
        f"bench-audit on PostgreSQL, {results['events']:,} events (seeded in {results['seed_seconds']} s)"
    )
    for key, limit in TARGETS_MS.items():
        mark = "ok" if results[key] < limit else "MISSED"
        print(f"  {key:<20} {results[key]:>8.1f} ms   target < {limit} ms   {mark}")
    out = BASE_DIR / "bench" / "results" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.exists() else {}
    data["audit"] = {**results, "targets_ms": TARGETS_MS, "missed": missed}
    out.write_text(json.dumps(data, indent=2) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
