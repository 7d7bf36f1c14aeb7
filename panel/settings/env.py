"""Environment reading for the settings modules.

Every setting that an operator may change is read here through django-environ, which
refuses malformed values (a non-integer port, an unknown URL scheme) at start-up rather
than at the first request that needs them.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file in the project root is read when present (see .env.example); real
# environment variables always win over it.
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file():
    environ.Env.read_env(str(_dotenv), overwrite=False)
