"""drf-spectacular extensions: the authentication schemes and fields whose schema depends on direction."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "API token `cp_<prefix>_<secret>`; `?access_token=` is accepted too.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class ScopedReferenceFieldSchema(OpenApiSerializerFieldExtension):
    """A reference to an object of the caller's account: sent as its id or name, answered as an object."""

    target_class = "campaigns.api.campaigns.ScopedReferenceField"

    def map_serializer_field(self, auto_schema, direction):
        alternate = self.target.alternate
        if direction == "request":
            return {"type": "string", "description": f"The object's id or its {alternate}."}
        return {
            "type": "object",
            "required": ["id", alternate],
            "properties": {"id": {"type": "string", "format": "uuid"}, alternate: {"type": "string"}},
        }
