"""One audit event as the log shows it (on the page and in the CSV): time, actor and
impersonator, affected user, team, action, outcome, IP, location, device, details.

The team is shown by name when a provider is registered (``register_team_names``; the
teams app registers one), else by its id.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from audit.actions import Action
from audit.models import AuditEvent
from security.client import geoip, useragent

_ACTION_LABELS = dict(Action.choices)
_OUTCOME_LABELS = dict(AuditEvent.Outcome.choices)

# team ids -> {id: name}; one call per page (or per CSV chunk), never one per row.
_team_names: list[Callable[[set[int]], dict[int, str]]] = []


def register_team_names(provider: Callable[[set[int]], dict[int, str]]) -> None:
    _team_names[:] = [provider]


def team_names(ids: set[int]) -> dict[int, str]:
    if not ids or not _team_names:
        return {}
    return _team_names[0](ids)


@lru_cache(maxsize=4096)
def _location(ip: str | None) -> str:
    return geoip.lookup(ip).label if ip else ""


@lru_cache(maxsize=1024)
def _device(user_agent: str) -> str:
    return useragent.parse(user_agent).label if user_agent else ""


def _name(user) -> str:
    return user.get_username() if user is not None else ""


def _details(metadata: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted((metadata or {}).items()))


@dataclass(frozen=True)
class Row:
    event_id: int
    time: object
    actor: str
    impersonator: str
    user: str
    team: str
    action: str
    action_label: str
    outcome: str
    outcome_label: str
    ip: str
    location: str
    device: str
    details: str


def rows(events: Iterable[AuditEvent], names: dict[int, str] | None = None) -> Iterator[Row]:
    """Rows of events fetched with ``select_related("actor", "user", "impersonator")``."""
    names = names or {}
    for event in events:
        yield Row(
            event_id=event.pk,
            time=event.created_at,
            actor=_name(event.actor),
            impersonator=_name(event.impersonator),
            user=_name(event.user),
            team=names.get(event.team_id, str(event.team_id)) if event.team_id else "",
            action=event.action,
            action_label=_ACTION_LABELS.get(event.action, event.action),
            outcome=event.outcome,
            outcome_label=_OUTCOME_LABELS.get(event.outcome, event.outcome),
            ip=event.ip or "",
            location=_location(event.ip),
            device=_device(event.user_agent),
            details=_details(event.metadata),
        )


# --- CSV ----------------------------------------------------------------------------------

CSV_HEADER = [
    "time (UTC)",
    "actor",
    "impersonator",
    "user",
    "team",
    "action",
    "outcome",
    "ip",
    "location",
    "device",
    "details",
]
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP
# "CSV injection"): it is prefixed with a quote so that it stays text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A spreadsheet-safe cell: formulas neutralised, line breaks and other control
    characters written as ``\\xNN`` so that no value can start a row of its own."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    return "".join(
        f"\\x{ord(c):02x}" if (ord(c) < 0x20 or ord(c) == 0x7F or c in "\u0085\u2028\u2029") else c
        for c in text
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(events: Iterable[AuditEvent], *, chunk: int = 2000, first: int = 50) -> Iterator[str]:
    """The header and one line per event, produced lazily (for a StreamingHttpResponse).
    Team names are looked up once a batch; the first batch is small, so the first rows
    leave at once, later ones are ``chunk`` events each."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(CSV_HEADER)
    batch: list[AuditEvent] = []

    def flush(batch):
        names = team_names({e.team_id for e in batch if e.team_id})
        for row in rows(batch, names):
            yield writer.writerow(
                [
                    csv_cell(value)
                    for value in (
                        row.time.strftime("%Y-%m-%d %H:%M:%S"),
                        row.actor,
                        row.impersonator,
                        row.user,
                        row.team,
                        row.action,
                        row.outcome,
                        row.ip,
                        row.location,
                        row.device,
                        row.details,
                    )
                ]
            )

    size = first
    for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield from flush(batch)
            batch, size = [], chunk
    if batch:
        yield from flush(batch)
