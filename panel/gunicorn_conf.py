"""gunicorn's settings for the panel's web processes:
``gunicorn -c python:panel.gunicorn_conf panel.wsgi --bind ... --workers ...``

The Dockerfile, ``docker-compose.yml``, the benches and the tests that run gunicorn all
start it with this file. Bind address and worker count stay on the command line.
"""

from __future__ import annotations

from panel import datastack


def post_worker_init(worker) -> None:
    # Each worker's request loop runs with room on the frame stack (panel/datastack.py).
    datastack.give_room(worker)
