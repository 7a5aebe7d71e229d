"""The OpenAPI schema tells what the API answers: the envelope, the errors, the shapes of real responses."""

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from campaigns.models import Sender
from portal.tokens import issue_token, revoke_token

pytestmark = pytest.mark.django_db

JSON = "application/json"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(schema, node):
    """The node with every `$ref` replaced by its component and `nullable` spelled as JSON Schema does."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return resolve(schema, schema["components"]["schemas"][name])
        resolved = {key: resolve(schema, value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable"):
            resolved = {"anyOf": [resolved, {"type": "null"}]}
        return resolved
    if isinstance(node, list):
        return [resolve(schema, value) for value in node]
    return node


def response_schema(schema, path, method, status):
    media = schema["paths"][path][method]["responses"][str(status)]["content"][JSON]
    return resolve(schema, media["schema"])


def assert_conforms(schema, path, method, response):
    body_schema = response_schema(schema, path, method, response.status_code)
    jsonschema.Draft4Validator(body_schema).validate(response.json())


def test_every_json_success_is_the_envelope(schema):
    checked = 0
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith("2") or JSON not in response.get("content", {}):
                continue
            body = resolve(schema, response["content"][JSON]["schema"])
            assert {"status", "code", "message", "data"} <= set(body["properties"]), (method, path, status)
            checked += 1
    assert checked > 100


def test_every_operation_documents_its_errors(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert {"400", "422", "429"} <= codes, (method, path)
        if operation.get("security") and {} not in operation["security"]:
            assert {"401", "403"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in ("post", "put", "patch", "delete"):
            assert {"409", "413"} <= codes, (method, path)
        error = operation["responses"]["404" if "404" in codes else "400"]["content"][JSON]["schema"]
        assert error["$ref"].endswith("/Error")
    assert operation["responses"]["422"]["content"][JSON]["schema"]["$ref"].endswith("/ValidationError")
    assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_delete_answers_200_with_empty_data(schema):
    body = response_schema(schema, "/api/v2/contacts/{id}/", "delete", 200)
    assert body["properties"]["data"] == {"type": "array", "maxItems": 0, "items": {}}


def test_uploads_are_binary(schema):
    upload = schema["paths"]["/api/v2/contacts/imports/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    fields = resolve(schema, upload["schema"])["properties"]
    assert fields["file"] == {"type": "string", "format": "binary", "description": fields["file"].get("description")}


def test_campaign_references_are_strings_in_and_objects_out(schema):
    request = schema["components"]["schemas"]["CampaignRequest"]["properties"]["sender"]
    assert request["type"] == "string"
    answer = schema["components"]["schemas"]["Campaign"]["properties"]["sender"]
    assert answer["type"] == "object" and set(answer["properties"]) == {"id", "name"}


def test_soft_revocation_is_documented(schema):
    operation = schema["paths"]["/api/v2/auth/tokens/{id}/"]["get"]
    assert "revoked" in operation["description"]


def test_real_answers_conform(schema, api, account, admin_user):
    """A few answers of every shape: a list, a detail with nullable relations, pricing, a revoked token, errors."""
    client = api()
    sender = Sender.objects.create(account=account, name="DEMOSH", country_code="IN")
    answers = [
        ("/api/v2/sms/senders/", "get", client.get("/api/v2/sms/senders/")),
        (
            "/api/v2/sms/senders/{id}/",
            "get",
            client.get(f"/api/v2/sms/senders/{sender.uid}/"),
        ),
        ("/api/v2/sms/templates/", "get", client.get("/api/v2/sms/templates/")),
        ("/api/v2/sms/pricing", "get", client.get("/api/v2/sms/pricing")),
        ("/api/v2/contacts/", "get", client.get("/api/v2/contacts/?page=99")),
        ("/api/v2/contacts/", "post", client.post("/api/v2/contacts/", {"mobile": "x"}, format="json")),
        ("/api/v2/contacts/{id}/", "get", client.get("/api/v2/contacts/nope/")),
    ]
    issued = issue_token(account, admin_user, "old")
    revoke_token(issued.token, acting_user=admin_user)
    answers.append(("/api/v2/auth/tokens/{id}/", "get", client.get(f"/api/v2/auth/tokens/{issued.token.uid}/")))
    statuses = []
    for path, method, response in answers:
        assert_conforms(schema, path, method, response)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 404, 422, 404, 200]
    assert answers[-1][2].json()["data"]["state"] == "revoked"
