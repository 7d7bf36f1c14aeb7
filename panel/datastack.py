"""Room on CPython's frame stack for a whole web worker, so that a deep page does not map
and unmap memory at every call.

CPython 3.11 keeps each thread's Python frames in chunks of 16 KiB. A call that does not
fit in the current chunk maps a new one with ``mmap``; the return that empties that chunk
unmaps it at once. A request whose calls go back and forth across a chunk's end pays a
``mmap``, a ``munmap`` and page faults at every crossing (CPython gh-142183, fixed in
3.13 and 3.14 by keeping one spare chunk; 3.11 and 3.12 receive no such fix). Under
gunicorn the panel's middleware, template includes and database calls put the Security
tab right at that edge: 173 crossings a request (each a ``mmap`` and a ``munmap``), 174
page faults and 1.6 ms of system time, a fifth of the page's CPU
(``docs/performance.md``).

``run_with_room(func)`` calls ``func`` from a frame with thousands of (never assigned)
local variables. CPython gives a frame that big a chunk of its own of 128 KiB, and about
70 KiB of it stay free above the frame for everything ``func`` calls: the deepest page
needs about 15 KiB. The gunicorn hook (``panel/gunicorn_conf.py``) runs each worker's
whole request loop that way, so the chunk is mapped once per worker, not per request.
On a Python that keeps a spare chunk this costs one idle chunk per worker and nothing
else. ``panel/tests/test_datastack.py`` counts the page faults with and without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Local names of the roomy frame: about 57 KiB of slots, which CPython rounds up to a
# chunk of 128 KiB (it wants the frame plus 1000 slots to fit, doubling from 16 KiB).
FRAME_SLOTS = 7200


def _roomy(slots: int) -> Callable[..., Any]:
    # The names exist only to size the frame: the branch never runs.
    names = " = ".join(f"_{n}" for n in range(slots))
    source = (
        "def run_with_room(func, *args, **kwargs):\n"
        "    if func is None:\n"
        f"        {names} = None\n"
        "    return func(*args, **kwargs)\n"
    )
    namespace: dict[str, Any] = {}
    # S102: the source is made above from a constant count, not from any input.
    exec(compile(source, __file__, "exec"), namespace)  # noqa: S102
    return namespace["run_with_room"]


run_with_room: Callable[..., Any] = _roomy(FRAME_SLOTS)
run_with_room.__doc__ = """``run_with_room(func, *args, **kwargs)``: ``func(*args,
**kwargs)``, called with 70 KiB of frame stack free above it (see the module)."""


def give_room(worker) -> None:
    """Make a gunicorn worker run its request loop with room (``post_worker_init``)."""
    run = worker.run
    worker.run = lambda: run_with_room(run)
