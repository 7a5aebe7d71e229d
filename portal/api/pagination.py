from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class EnvelopePagination(PageNumberPagination):
    """`?page=N&per_page=M` (at most 100) with `links` and `meta` beside `data`."""

    page_size = 25
    page_size_query_param = "per_page"
    max_page_size = 100

    def get_paginated_response(self, data):
        page = self.page
        paginator = page.paginator
        response = Response(
            {
                "data": data,
                "links": {
                    "first": self._page_link(1),
                    "last": self._page_link(paginator.num_pages),
                    "prev": self.get_previous_link(),
                    "next": self.get_next_link(),
                },
                "meta": {
                    "current_page": page.number,
                    "per_page": paginator.per_page,
                    "total": paginator.count,
                    "last_page": paginator.num_pages,
                },
            }
        )
        response.paginated = True
        return response

    def _page_link(self, number: int) -> str:
        from rest_framework.utils.urls import replace_query_param

        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, number)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "status": {"type": "string", "example": "OK"},
                "code": {"type": "integer", "example": 200},
                "message": {"type": "string"},
                "data": schema,
                "links": {"type": "object"},
                "meta": {"type": "object"},
            },
        }
