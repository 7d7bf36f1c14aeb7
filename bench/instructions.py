"""`make bench-instructions`: the instructions each signed-in page costs, counted.

Time on a shared machine moves by a fifth between runs minutes apart (`make bench-http`
is read as ratios of interleaved rounds for that reason), too much to see a change worth
a few percent. Valgrind's cachegrind counts the instructions instead: the same code on
the same data gives the same count to a few thousandths. Each page is viewed in one
Python process (Django's WSGI handler called directly: no gunicorn, no network, the
database's own work not counted), the count of 20 views subtracted from the count of
20 + BENCH_VIEWS (default 200) views, divided by BENCH_VIEWS: start-up and warm-up cancel
out. Python's garbage collector is off in those processes (when it runs depends on
everything allocated before), hash seed and address layout fixed, and glibc's memcpy
kept off `rep movsb` (which valgrind counts a byte at a time).

The same account as `make bench-http` (a team, a dozen trusted browsers), on a
throwaway database of the PostgreSQL server of DATABASE_URL (required) and the Redis of
REDIS_URL when set. Reports instructions per view and the ratio to the control's; no
target (bench-http has them): a tool to compare two versions of the code.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.http_bench import PAGES  # noqa: E402 (the path above first)
from bench.load import (  # noqa: E402
    HOST,
    PASSWORD,
    RESULTS,
    USER_AGENT,
    USERNAME,
    drop_postgres,
    prepare_database,
    server_environment,
    throwaway_postgres,
)

VIEWS = int(os.environ.get("BENCH_VIEWS", "200"))
BEFORE = 20  # views counted in both runs (after 30 warm-up views)


def child(path: str, views: int, cookie: str) -> None:
    """Runs under valgrind: 30 views, then ``views`` more."""
    import gc
    import io

    gc.disable()
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    from security.sessions import services as sessions

    # No once-a-minute last-active write in one run and not the other.
    sessions.ACTIVITY_WRITE_INTERVAL = 10**9
    handler = WSGIHandler()
    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="GET",
        HTTP_COOKIE=cookie,
        HTTP_USER_AGENT=USER_AGENT,
        SERVER_NAME=HOST,
        HTTP_HOST=HOST,
    )

    def view() -> None:
        status = []
        answer = handler(
            {**environ, "wsgi.input": io.BytesIO(b"")}, lambda s, h, e=None: status.append(s)
        )
        b"".join(answer)
        if not status[0].startswith("200"):
            raise SystemExit(f"{path} answered {status[0]}")

    for _ in range(30 + views):
        view()


def count(env: dict[str, str], path: str, views: int, cookie: str) -> int:
    out = subprocess.run(
        [
            "setarch",
            "x86_64",
            "-R",
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--branch-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            path,
            str(views),
        ],
        env={**env, "BENCH_COOKIE": cookie},
        capture_output=True,
        text=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode or not found:
        raise RuntimeError(f"the count of {path} failed:\n{out.stdout}\n{out.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def signed_in_cookie(cookies: dict[str, str]) -> str:
    from django.test import Client

    client = Client(HTTP_HOST=HOST, HTTP_USER_AGENT=USER_AGENT)
    for name, value in cookies.items():
        client.cookies[name] = value
    reply = client.post("/auth/login/", {"username": USERNAME, "password": PASSWORD})
    if reply.status_code != 302 or reply["Location"] != "/dashboard/":
        raise RuntimeError(f"the bench sign-in failed: {reply.status_code}")
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


def main() -> int:
    if not shutil.which("valgrind"):
        print("make bench-instructions needs valgrind: apt-get install valgrind", file=sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("make bench-instructions runs on PostgreSQL: set DATABASE_URL", file=sys.stderr)
        return 2
    database_url, name = throwaway_postgres(url)
    tmp = Path(tempfile.mkdtemp(prefix="panel-bench-instructions-"))
    try:
        env = server_environment(tmp, 8000, database_url)
        if os.environ.get("REDIS_URL"):
            env.update(REDIS_URL=os.environ["REDIS_URL"], BENCH_CACHE_PREFIX=f"instr{os.getpid()}")
        cookie = signed_in_cookie(prepare_database(env)["0:0"])
        env.update(
            PYTHONHASHSEED="0",
            GLIBC_TUNABLES="glibc.cpu.x86_rep_movsb_threshold=4294967295:"
            "glibc.cpu.x86_rep_stosb_threshold=4294967295",
        )
        jobs = []
        for page, path in PAGES.items():
            page_env = dict(env)
            if page == "control":
                page_env["DJANGO_SETTINGS_MODULE"] = "bench.control_settings"
            jobs += [(page, page_env, path, BEFORE), (page, page_env, path, BEFORE + VIEWS)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            counts = list(pool.map(lambda job: count(job[1], job[2], job[3], cookie), jobs))
    finally:
        drop_postgres(url, name)
    per_view = {page: (counts[2 * n + 1] - counts[2 * n]) / VIEWS for n, page in enumerate(PAGES)}
    print(f"{'page':<10} {'instructions/view':>18} {'x control':>10}")
    for page, instructions in per_view.items():
        print(f"{page:<10} {instructions:>18,.0f} {instructions / per_view['control']:>10.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing["instructions"] = per_view
    RESULTS.write_text(json.dumps(existing, indent=2))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), os.environ["BENCH_COOKIE"])
    else:
        raise SystemExit(main())
