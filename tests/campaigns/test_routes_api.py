"""The route table over `/api/v2/sms/routes` and in the Django admin: platform staff only, connectors by id or
name kept in order, 422 naming the field, 404 for a route that does not exist, and a route made over the API
deciding the connector of the next send."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from campaigns.models import Connector, Message, Route, RouteStep
from portal.accounts import add_member
from portal.roles import Role
from tests.campaigns.sending_support import approved_sender, prices

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(api, account, staff_user):
    add_member(account, staff_user, Role.ADMIN)
    return api(user=staff_user)


@pytest.fixture
def carriers():
    return {name: Connector.objects.create(name=name, kind="simulator") for name in ("india", "any", "spare")}


def names(data) -> list[str]:
    return [connector["name"] for connector in data["connectors"]]


def test_staff_create_list_and_read_routes_with_connectors_by_id_or_name_in_order(staff_api, carriers):
    body = {"country": "IN", "connectors": [str(carriers["spare"].uid), "india"], "note": "India first"}
    created = staff_api.post("/api/v2/sms/routes", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()["data"]
    assert names(data) == ["spare", "india"] and data["connectors"][0]["id"] == str(carriers["spare"].uid)
    assert (data["route_set"], data["prefix"], data["service"], data["is_active"]) == (None, "", "", True)
    listed = staff_api.get("/api/v2/sms/routes")
    assert listed.status_code == 200 and listed.json()["message"] == "Routes List"
    assert [row["id"] for row in listed.json()["data"]] == [data["id"]]
    read = staff_api.get(f"/api/v2/sms/routes/{data['id']}")
    assert read.status_code == 200 and names(read.json()["data"]) == ["spare", "india"]


def test_a_patch_answers_with_the_new_connectors_and_keeps_them_when_it_names_none(staff_api, carriers):
    created = staff_api.post("/api/v2/sms/routes", {"connectors": ["india", "any"]}, format="json")
    route_id = created.json()["data"]["id"]
    changed = staff_api.patch(f"/api/v2/sms/routes/{route_id}", {"connectors": ["any", "spare"]}, format="json")
    assert changed.status_code == 200 and names(changed.json()["data"]) == ["any", "spare"]
    paused = staff_api.patch(f"/api/v2/sms/routes/{route_id}", {"is_active": False, "note": "paused"}, format="json")
    assert paused.status_code == 200 and names(paused.json()["data"]) == ["any", "spare"]
    route = Route.objects.get()
    assert (route.is_active, route.note) == (False, "paused")
    assert list(route.steps.values_list("connector__name", "position")) == [("any", 0), ("spare", 1)]


def test_anyone_but_platform_staff_is_refused_on_every_method(api, client_for, admin_user, carriers):
    route = Route.objects.create(country="IN")
    RouteStep.objects.create(route=route, connector=carriers["india"])
    client = api()
    assert client.get("/api/v2/sms/routes").status_code == 403
    assert client.get(f"/api/v2/sms/routes/{route.pk}").status_code == 403
    assert client.post("/api/v2/sms/routes", {"connectors": ["any"]}, format="json").status_code == 403
    assert client.patch(f"/api/v2/sms/routes/{route.pk}", {"connectors": ["any"]}, format="json").status_code == 403
    assert client.delete(f"/api/v2/sms/routes/{route.pk}").status_code == 403
    assert client_for(admin_user).get("/api/v2/sms/routes").status_code == 403
    assert list(Route.objects.values_list("country", "steps__connector__name")) == [("IN", "india")]


def test_an_unknown_route_is_404(staff_api):
    missing = "/api/v2/sms/routes/999999"
    assert staff_api.get(missing).status_code == 404
    assert staff_api.patch(missing, {"note": "x"}, format="json").status_code == 404
    assert staff_api.delete(missing).status_code == 404
    assert staff_api.get("/api/v2/sms/routes/not-a-route").status_code == 404


@pytest.mark.parametrize("reference", [str(uuid.uuid4()), "Nobody", ""])
def test_an_unknown_connector_is_422_naming_connectors_and_nothing_is_saved(staff_api, carriers, reference):
    body = {"country": "IN", "connectors": ["india", reference]}
    response = staff_api.post("/api/v2/sms/routes", body, format="json")
    assert response.status_code == 422, response.json()
    assert response.json()["status"] == "error" and set(response.json()["errors"]) == {"connectors"}
    assert not Route.objects.exists()


def test_routes_made_over_the_api_decide_the_connector_of_each_message_of_the_next_send(
    staff_api, api, account, carriers
):
    assert staff_api.post("/api/v2/sms/routes", {"connectors": ["any"]}, format="json").status_code == 201
    india = {"country": "IN", "service": "ENT", "connectors": ["india", "spare"]}
    assert staff_api.post("/api/v2/sms/routes", india, format="json").status_code == 201
    prices("ENT", IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")
    body = {"sender": "ACMEUK", "to": ["+919876543210", "+447400123456"], "message": "Your Acme code is 4711"}
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    assert dict(Message.objects.values_list("recipient", "connector__name")) == {
        "+919876543210": "india",
        "+447400123456": "any",
    }


def test_the_route_admin_pages_load_for_a_superuser(client, carriers):
    root = get_user_model().objects.create_superuser("root@platform.example", "root@platform.example", "pw-12345!")
    client.force_login(root)
    route = Route.objects.create(country="IN", prefix="9198")
    for position, name in enumerate(("india", "spare")):
        RouteStep.objects.create(route=route, connector=carriers[name], position=position)
    changelist = client.get("/admin/campaigns/route/")
    assert changelist.status_code == 200 and "india → spare" in changelist.content.decode()
    assert client.get("/admin/campaigns/route/?is_active__exact=1&q=9198").status_code == 200
    assert client.get("/admin/campaigns/route/add/").status_code == 200
    assert client.get(f"/admin/campaigns/route/{route.pk}/change/").status_code == 200
    assert client.get("/admin/campaigns/routeset/").status_code == 200
    assert client.get("/admin/campaigns/routeset/add/").status_code == 200
