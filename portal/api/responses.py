"""The success envelope `{"status": "OK", "code", "message", "data"}` (plus `links`/`meta` on lists)."""

from rest_framework.response import Response


def envelope(data, message: str, status: int = 200, headers=None) -> Response:
    response = Response(
        {"status": "OK", "code": status, "message": message, "data": data}, status=status, headers=headers
    )
    response.enveloped = True
    return response


class EnvelopeMixin:
    """Wraps plain 2xx responses of a view in the envelope; `resource_name` drives the messages."""

    resource_name = "Resource"
    resource_plural = None

    ACTION_MESSAGES = {
        "list": "{plural} List",
        "retrieve": "{name} Details",
        "create": "{name} Saved Successfully",
        "update": "{name} Updated Successfully",
        "partial_update": "{name} Updated Successfully",
        "destroy": "{name} Deleted Successfully",
    }

    def envelope_message(self) -> str:
        action = getattr(self, "action", None) or self.request.method.lower()
        template = self.ACTION_MESSAGES.get(action, "{name}")
        return template.format(name=self.resource_name, plural=self.resource_plural or f"{self.resource_name}s")

    def finalize_response(self, request, response, *args, **kwargs):
        if (
            isinstance(response, Response)
            and 200 <= response.status_code < 300
            and not getattr(response, "enveloped", False)
            and not getattr(response, "exception", False)
        ):
            if response.status_code == 204:
                response.status_code = 200
            payload = response.data if response.data is not None else []
            body = {"status": "OK", "code": response.status_code, "message": self.envelope_message()}
            if getattr(response, "paginated", False):
                body.update(payload)
            else:
                body["data"] = payload
            response.data = body
            response.enveloped = True
        return super().finalize_response(request, response, *args, **kwargs)
