"""Page-number pagination: ``?page=2&pageSize=50``; a page size over the maximum is
refused (400), not silently cut."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

from .exceptions import ApiRefusal

MAX_PAGE_SIZE = 100


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "pageSize"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except (TypeError, ValueError):
            raise ApiRefusal("invalid_page_size", "pageSize must be an integer.") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ApiRefusal(
                "invalid_page_size", f"pageSize must be between 1 and {MAX_PAGE_SIZE}."
            )
        return size

    def get_paginated_response(self, data):
        from rest_framework.response import Response

        return Response(
            {
                "count": self.page.paginator.count,
                "page": self.page.number,
                "pageSize": self.page.paginator.per_page,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "page", "pageSize", "results"],
            "properties": {
                "count": {"type": "integer"},
                "page": {"type": "integer"},
                "pageSize": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }
