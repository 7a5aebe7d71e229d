"""Helpers shared by the campaigns API modules."""


def reason_from(request) -> str:
    data = request.data if hasattr(request.data, "get") else {}
    return str(data.get("reason") or "")
