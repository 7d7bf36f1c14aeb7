"""/api/v1/domains, /api/v1/members, /api/v1/audit: the team's resources, through the
same selectors and services as the team pages (``teams.selectors``,
``teams.services``, ``security.auditlog``). Each service checks the exact permission
again and audits the change; the event carries the key or token that made it."""

from __future__ import annotations

from django.core.paginator import Paginator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from audit.actions import Action
from security.auditlog.access import events_for
from security.auditlog.filters import AuditEventFilter
from teams import selectors, services
from teams.models import Membership

from .. import scopes
from ..exceptions import ApiRefusal
from ..pagination import Pagination
from ..serializers import (
    AuditEventSerializer,
    DomainInputSerializer,
    DomainSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
)
from .base import ApiView

TEAM_PARAM = OpenApiParameter(
    "team",
    int,
    description="The team to act in (access tokens only; a key acts in its own team). "
    "Optional when you are a member of one team.",
)
PAGE_PARAMS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter(
        "pageSize",
        {"type": "integer", "minimum": 1, "maximum": 100},
        description="Items per page, 1 to 100 (default 50).",
    ),
]


def _paginate(request, view, queryset, serializer_class):
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _int_id(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiRefusal("not_found", "There is nothing here.", status=404) from None
    if not 1 <= number <= 2**63 - 1:
        raise ApiRefusal("not_found", "There is nothing here.", status=404)
    return number


@extend_schema_view(
    get=extend_schema(
        summary="List the team's domains",
        parameters=[TEAM_PARAM, *PAGE_PARAMS],
        responses=DomainSerializer(many=True),
    ),
    post=extend_schema(
        summary="Add a domain",
        parameters=[TEAM_PARAM],
        request=DomainInputSerializer,
        responses={201: DomainSerializer},
    ),
)
class DomainList(ApiView):
    scopes = {"GET": scopes.DOMAINS_READ, "POST": scopes.DOMAINS_WRITE}
    pagination_class = Pagination

    def get(self, request):
        team = request.team_access.team
        return _paginate(request, self, selectors.domains_for(team=team), DomainSerializer)

    def post(self, request):
        data = DomainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        domain = services.domain_create(
            actor=request.user,
            team=request.team_access.team,
            hostname=data.validated_data["hostname"],
            notes=data.validated_data["notes"],
            request=request,
        )
        return Response(DomainSerializer(domain).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Read a domain", parameters=[TEAM_PARAM], responses=DomainSerializer),
    put=extend_schema(
        summary="Change a domain",
        parameters=[TEAM_PARAM],
        request=DomainInputSerializer,
        responses=DomainSerializer,
    ),
    delete=extend_schema(summary="Delete a domain", parameters=[TEAM_PARAM], responses={204: None}),
)
class DomainDetail(ApiView):
    scopes = {
        "GET": scopes.DOMAINS_READ,
        "PUT": scopes.DOMAINS_WRITE,
        "DELETE": scopes.DOMAINS_WRITE,
    }

    def _domain(self, request, domain_id):
        domain = selectors.domain_of(team=request.team_access.team, domain_id=_int_id(domain_id))
        if domain is None:
            raise ApiRefusal("not_found", "There is no such domain in this team.", status=404)
        return domain

    def get(self, request, domain_id):
        return Response(DomainSerializer(self._domain(request, domain_id)).data)

    def put(self, request, domain_id):
        domain = self._domain(request, domain_id)
        data = DomainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        domain = services.domain_update(
            actor=request.user,
            team=request.team_access.team,
            domain=domain,
            hostname=data.validated_data["hostname"],
            notes=data.validated_data["notes"],
            request=request,
        )
        return Response(DomainSerializer(domain).data)

    def delete(self, request, domain_id):
        domain = self._domain(request, domain_id)
        services.domain_delete(
            actor=request.user, team=request.team_access.team, domain=domain, request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        summary="List the team's members",
        parameters=[TEAM_PARAM, OpenApiParameter("page", int, description="Page number, from 1.")],
        responses=MemberSerializer(many=True),
    )
)
class MemberList(ApiView):
    scopes = {"GET": scopes.MEMBERS_READ}
    pagination_class = Pagination

    def get(self, request):
        page_number = request.query_params.get("page") or 1
        page = selectors.members_page(team=request.team_access.team, page=page_number)
        paginator: Paginator = page.paginator
        return Response(
            {
                "count": paginator.count,
                "page": page.number,
                "pageSize": paginator.per_page,
                "next": None,
                "previous": None,
                "results": MemberSerializer(page.object_list, many=True).data,
            }
        )


@extend_schema_view(
    get=extend_schema(summary="Read a member", parameters=[TEAM_PARAM], responses=MemberSerializer),
    patch=extend_schema(
        summary="Change a member's role (within your own rights)",
        parameters=[TEAM_PARAM],
        request=MemberUpdateSerializer,
        responses=MemberSerializer,
    ),
)
class MemberDetail(ApiView):
    scopes = {"GET": scopes.MEMBERS_READ, "PATCH": scopes.MEMBERS_WRITE}

    def _membership(self, request, membership_id) -> Membership:
        membership = selectors.membership_of(
            team=request.team_access.team, membership_id=_int_id(membership_id)
        )
        if membership is None:
            raise ApiRefusal("not_found", "There is no such member in this team.", status=404)
        return membership

    def get(self, request, membership_id):
        return Response(MemberSerializer(self._membership(request, membership_id)).data)

    def patch(self, request, membership_id):
        membership = self._membership(request, membership_id)
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = request.team_access.team
        role = services.role_for(team=team, role_id=data.validated_data["roleId"])
        updated = services.membership_change_role(
            actor=request.user, team=team, membership=membership, role=role, request=request
        )
        return Response(
            MemberSerializer(selectors.membership_of(team=team, membership_id=updated.pk)).data
        )


@extend_schema_view(
    get=extend_schema(
        summary="The team's audit events, newest first",
        parameters=[
            TEAM_PARAM,
            *PAGE_PARAMS,
            OpenApiParameter("action", str, enum=Action.values, description="An action name."),
            OpenApiParameter("outcome", str, enum=["success", "failure"]),
            OpenApiParameter("user", str, description="Username or email (actor or affected)."),
            OpenApiParameter("ip", str, description="An address or network (203.0.113.0/24)."),
            OpenApiParameter("since", OpenApiTypes.DATE, description="From this day."),
            OpenApiParameter("until", OpenApiTypes.DATE, description="To this day, inclusive."),
        ],
        responses=AuditEventSerializer(many=True),
    )
)
class AuditList(ApiView):
    scopes = {"GET": scopes.AUDIT_READ}
    pagination_class = Pagination
    FILTERS = ("action", "outcome", "user", "ip", "since", "until")

    def get(self, request):
        events = events_for(team_id=request.team_access.team.pk)
        params = {k: v for k, v in request.query_params.items() if k in self.FILTERS}
        filters = AuditEventFilter(params, queryset=events)
        if not filters.is_valid():
            field, errors = next(iter(filters.errors.items()))
            raise ApiRefusal("invalid_filter", f"{field}: {errors[0]}")
        return _paginate(
            request, self, filters.qs.order_by("-created_at", "-id"), AuditEventSerializer
        )
