"""The frame-stack room of the web workers (panel/datastack.py): a request loop that goes
back and forth across the end of a 16 KiB frame-stack chunk faults memory in at every
crossing on CPython 3.11; run with room, it does not."""

from __future__ import annotations

import resource
import sys
from types import SimpleNamespace

import pytest

from panel import datastack, gunicorn_conf

# Each call of _down takes about 100 bytes of frame stack: 400 of them cross the end of
# a 16 KiB chunk twice wherever the caller's frames end, and fit in the room.
DEEPEST = 400


def _down(depth: int) -> int:
    return 0 if depth == 0 else _down(depth - 1) + 1


def _faults_going_up_and_down() -> int:
    """This thread's page faults while calling down to each depth up to DEEPEST and back."""
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for depth in range(0, DEEPEST, 2):
        _down(depth)
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before


@pytest.fixture(autouse=True)
def _deep_enough():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEPEST + 500))
    yield
    sys.setrecursionlimit(limit)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="CPython 3.13+ keeps a spare chunk")
def test_without_room_each_crossing_of_a_chunk_end_faults():
    # What the room prevents, measured the same way: the check below can fail.
    _faults_going_up_and_down()  # every chunk this thread will need has been made once
    assert _faults_going_up_and_down() > 100


def test_with_room_the_same_calls_do_not_fault():
    datastack.run_with_room(_faults_going_up_and_down)
    assert datastack.run_with_room(_faults_going_up_and_down) < 40


def test_run_with_room_passes_arguments_and_the_result():
    assert datastack.run_with_room(divmod, 7, 2) == (3, 1)
    assert datastack.run_with_room(dict, a=1) == {"a": 1}


def test_a_gunicorn_worker_runs_its_loop_with_room():
    measured = []
    worker = SimpleNamespace(run=lambda: measured.append(_faults_going_up_and_down()))
    gunicorn_conf.post_worker_init(worker)
    worker.run()
    worker.run()
    assert measured[1] < 40
