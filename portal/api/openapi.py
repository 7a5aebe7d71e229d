"""The OpenAPI schema as the API really answers: every 2xx in the envelope, every error the envelope of errors.

`EnvelopeAutoSchema` is the project's drf-spectacular AutoSchema. Success bodies are wrapped in
`{status: "OK", code, message, data}` (paginated lists already carry `data`, `links`, `meta`); a DELETE answers
200 with `data: []` (the envelope turns 204 into 200). Each operation lists the errors it can answer with shared
components: `Error` (400, 401, 403, 404, 409, 413, 429, 503) and `ValidationError` (422, with `errors` by field).
"""

import copy

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

JSON = "application/json"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

ERROR_DESCRIPTIONS = {
    "400": "The request could not be read (malformed JSON or form, NUL characters, an unsupported content type).",
    "401": "No valid credentials: a missing, unknown, expired or revoked token.",
    "403": "Authenticated, but the role, token scope or address allow-list does not permit this.",
    "404": "No such object in the caller's account (another account's object is a 404 too); on a list, no such page.",
    "409": "The object's current state does not allow this (for example, only a draft can be scheduled).",
    "413": "The request body or upload is larger than allowed.",
    "422": "Validation failed: `errors` names each field and what is wrong with it.",
    "429": "Too many requests or failed attempts: retry after `Retry-After` seconds.",
    "503": "The database is busy or unreachable: retry after `Retry-After` seconds.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: `code` repeats the HTTP status.",
    "required": ["status", "code", "message"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "code": {"type": "integer", "example": 404},
        "message": {"type": "string", "example": "Not found"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {}}},
    },
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "A 422: `errors` maps each field (or `non_field_errors`) to its messages.",
    "required": ["status", "code", "message", "errors"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "code": {"type": "integer", "enum": [422]},
        "message": {"type": "string", "example": "Validation error"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {}},
            "example": {"mobile": ["Enter a valid phone number."]},
        },
    },
}


def envelope_schema(data_schema: dict) -> dict:
    """The success envelope around one response body."""
    return {
        "type": "object",
        "required": ["status", "code", "message", "data"],
        "properties": {
            "status": {"type": "string", "enum": ["OK"]},
            "code": {"type": "integer", "example": 200},
            "message": {"type": "string"},
            "data": data_schema,
        },
    }


def is_enveloped(schema: dict) -> bool:
    """A paginated list's schema (a `Paginated…List` component or the inline form) is an envelope already."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/Paginated"):
        return True
    return {"status", "data"} <= set(schema.get("properties", {}))


def source_may_be_null(field) -> bool:
    """A field read through a nullable relation (`source="reviewed_by.email"`) answers null when it is unset."""
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    for attribute in getattr(field, "source_attrs", [])[:-1]:
        try:
            relation = model._meta.get_field(attribute) if model is not None else None
        except FieldDoesNotExist:
            return False
        if relation is None or not relation.is_relation:
            return False
        if relation.null:
            return True
        model = relation.related_model
    return False


class EnvelopeAutoSchema(AutoSchema):
    """Documents the envelope, the errors each action can answer, and nulls read through relations."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "response" and isinstance(schema, dict) and source_may_be_null(field):
            schema = {**schema, "nullable": True}
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        if "204" in responses and "content" not in responses["204"]:
            del responses["204"]
            responses["200"] = {
                "description": "Deleted.",
                "content": {JSON: {"schema": envelope_schema({"type": "array", "maxItems": 0, "items": {}})}},
            }
        for code, response in responses.items():
            if code.startswith("2"):
                self._wrap_in_envelope(response)
            elif code in ERROR_DESCRIPTIONS and "content" not in response:
                response["content"] = self._error_response(code)["content"]
        for code in self.error_codes():
            responses.setdefault(code, self._error_response(code))
        return dict(sorted(responses.items()))

    def _wrap_in_envelope(self, response: dict) -> None:
        content = response.get("content")
        if not content:
            response["content"] = {JSON: {"schema": envelope_schema({"type": "array", "maxItems": 0, "items": {}})}}
            return
        media = content.get(JSON)
        if media is None:
            return
        schema = media.get("schema", {})
        if not is_enveloped(schema):
            media["schema"] = envelope_schema(schema)

    def error_codes(self) -> list[str]:
        """The error statuses this operation can answer, from its method, path and authentication; a view lists in
        `not_found_actions` the actions without an id in their path that name an object in their body."""
        codes = ["400", "422", "429", "503"]
        if self.get_auth():
            codes += ["401", "403"]
        names_an_object = getattr(self.view, "action", None) in getattr(self.view, "not_found_actions", ())
        if "{" in self.path or (self.method == "GET" and self._is_list_view()) or names_an_object:
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes += ["409", "413"]
        return codes

    def _error_response(self, code: str) -> dict:
        component_name = "ValidationError" if code == "422" else "Error"
        component = ResolvedComponent(
            name=component_name,
            type=ResolvedComponent.SCHEMA,
            object=component_name,
            schema=copy.deepcopy(VALIDATION_ERROR_SCHEMA if code == "422" else ERROR_SCHEMA),
        )
        self.registry.register_on_missing(component)
        response = {"description": ERROR_DESCRIPTIONS[code], "content": {JSON: {"schema": component.ref}}}
        if code in ("429", "503"):
            response["headers"] = RETRY_AFTER
        return response
