"""The audit log pages: the filtered, paginated trail and its CSV export (streamed).

``log_context`` and ``export_response`` take the scope (``team_id``; ``None`` for the
whole panel), so the team audit log (``teams/views/events.py``, ``events.read``) is the
same code over ``security.auditlog.selectors.filtered_events(team_id=...)``.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from security.auditlog.access import superuser_required
from security.auditlog.rows import csv_lines, rows, team_names
from security.auditlog.selectors import filtered_events

PAGE_SIZE = 50


def newest_first_in_batches(queryset, *, first: int = 50, size: int = 2000):
    """The events newest first, read in keyset batches (``(created_at, id)`` below the
    last one read): each batch is one index range scan, no transaction or server-side
    cursor stays open while the client downloads (a PostgreSQL cursor outside a
    transaction is materialised in full before its first row), and memory holds one
    batch. The first batch is small, so the first rows leave at once."""
    ordered = queryset.order_by("-created_at", "-id")
    last = None
    limit = first
    while True:
        page = ordered
        if last is not None:
            page = ordered.filter(
                Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, id__lt=last.pk)
            )
        batch = list(page[:limit])
        yield from batch
        if len(batch) < limit:
            return
        last, limit = batch[-1], size


def log_context(request: HttpRequest, *, team_id: int | None, export_url: str) -> tuple[dict, int]:
    """The log page's context (filter form, page of rows, export link) and its status:
    400 with the form's errors and no rows when a filter value is invalid."""
    filterset, queryset = filtered_events(request.GET, team_id=team_id)
    if queryset is None:
        return {"filter": filterset, "page": None, "rows": []}, 400
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    events_on_page = list(page.object_list)
    names = team_names({e.team_id for e in events_on_page if e.team_id})
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filter": filterset,
        "page": page,
        "rows": list(rows(events_on_page, names)),
        "query": query.urlencode(),
        "export_url": f"{export_url}?{query.urlencode()}" if query else export_url,
    }, 200


def export_response(request: HttpRequest, *, team_id: int | None, filename: str) -> HttpResponse:
    """The filtered events as a streamed CSV (escaped cells, ``rows.csv_cell``); a 400
    in plain text naming the invalid filters."""
    filterset, queryset = filtered_events(request.GET, team_id=team_id)
    if queryset is None:
        return HttpResponse(
            "Invalid filter: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        csv_lines(newest_first_in_batches(queryset)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@superuser_required
def audit_log(request: HttpRequest) -> HttpResponse:
    context, status = log_context(
        request, team_id=None, export_url=reverse("security:audit_export")
    )
    context.update(title="Audit log", ops_tab="audit")
    return render(request, "security/auditlog/events.html", context, status=status)


@require_GET
@superuser_required
def audit_export(request: HttpRequest) -> HttpResponse:
    return export_response(request, team_id=None, filename="audit-log")
