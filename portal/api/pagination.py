from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from portal.credentials import without_credentials


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

    def _base_url(self) -> str:
        """The request's URL without credentials (`?access_token=`), `per_page` the size actually used (it may
        have been capped)."""
        url = without_credentials(self.request.build_absolute_uri())
        if self.page_size_query_param in self.request.query_params:
            url = replace_query_param(url, self.page_size_query_param, self.page.paginator.per_page)
        return url

    def _page_link(self, number: int) -> str:
        return replace_query_param(self._base_url(), self.page_query_param, number)

    def get_next_link(self):
        if not self.page.has_next():
            return None
        return self._page_link(self.page.next_page_number())

    def get_previous_link(self):
        if not self.page.has_previous():
            return None
        return self._page_link(self.page.previous_page_number())

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
