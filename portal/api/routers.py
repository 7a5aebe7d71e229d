from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    """Paths without a trailing slash (a trailing slash is accepted too)."""

    def __init__(self):
        super().__init__(use_regex_path=True)
        self.trailing_slash = "/?"
