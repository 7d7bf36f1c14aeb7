"""The audit log pages: the filtered, paginated trail and its CSV export (streamed).

``event_log`` and ``event_export`` take the events a page may show, so a team's log
(ROADMAP: ``events.read``) is the same two functions over ``events_for(team_id=...)``.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from security.auditlog.access import events_for, superuser_required
from security.auditlog.filters import AuditEventFilter
from security.auditlog.rows import csv_lines, rows, team_names

PAGE_SIZE = 50


def _filtered(request: HttpRequest, events):
    filterset = AuditEventFilter(request.GET or None, queryset=events)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, None
    return filterset, filterset.qs.select_related("actor", "user", "impersonator").order_by(
        "-created_at", "-id"
    )


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


def event_log(request: HttpRequest, *, events, export_url: str, title: str) -> HttpResponse:
    filterset, queryset = _filtered(request, events)
    if queryset is None:
        return render(
            request,
            "security/auditlog/events.html",
            {"filter": filterset, "page": None, "rows": [], "title": title, "ops_tab": "audit"},
            status=400,
        )
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    events_on_page = list(page.object_list)
    names = team_names({e.team_id for e in events_on_page if e.team_id})
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "security/auditlog/events.html",
        {
            "filter": filterset,
            "page": page,
            "rows": list(rows(events_on_page, names)),
            "title": title,
            "ops_tab": "audit",
            "query": query.urlencode(),
            "export_url": f"{export_url}?{query.urlencode()}" if query else export_url,
        },
    )


def event_export(request: HttpRequest, *, events, filename: str) -> HttpResponse:
    filterset, queryset = _filtered(request, events)
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
    return event_log(
        request,
        events=events_for(),
        export_url=reverse("security:audit_export"),
        title="Audit log",
    )


@require_GET
@superuser_required
def audit_export(request: HttpRequest) -> HttpResponse:
    return event_export(request, events=events_for(), filename="audit-log")
