"""Connectors and routes for platform staff, over the API, on the staff page and in the admin: settings checked
in one place (422 naming the field), the password write-only, everyone else refused with 403."""

import pytest

from campaigns.models import Connector, Route, RouteSet, SmppBind
from portal.accounts import add_member
from portal.roles import Role

pytestmark = pytest.mark.django_db

SMPP = {"host": "smsc.example.net", "port": 2775, "system_id": "acme", "binds": 2, "window": 20}


@pytest.fixture
def staff_api(api, account, staff_user):
    add_member(account, staff_user, Role.ADMIN)
    return api(user=staff_user)


def create_smpp(client, **overrides):
    body = {"name": "Carrier A", "kind": "smpp", "config": SMPP, "password": "s3cret"} | overrides
    return client.post("/api/v2/sms/connectors", body, format="json")


def test_staff_create_an_smpp_connector_with_defaults_and_the_password_never_comes_back(staff_api):
    response = create_smpp(staff_api)
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["config"]["window"] == 20 and data["config"]["bind_mode"] == "transceiver"
    assert data["config"]["india_tlv_tags"] == {"pe_id": 0x1400, "template_id": 0x1401, "tm_id": 0x1402}
    assert data["has_password"] is True and "password" not in data and "secret" not in data
    assert "s3cret" not in str(staff_api.get("/api/v2/sms/connectors").json())
    assert Connector.objects.get().secret == "s3cret"


def test_a_patch_without_the_password_keeps_it_and_settings_are_checked_again(staff_api):
    uid = create_smpp(staff_api).json()["data"]["id"]
    response = staff_api.patch(f"/api/v2/sms/connectors/{uid}", {"config": SMPP | {"window": 50}}, format="json")
    assert response.status_code == 200, response.json()
    connector = Connector.objects.get()
    assert (connector.config["window"], connector.secret) == (50, "s3cret")
    bad = staff_api.patch(f"/api/v2/sms/connectors/{uid}", {"config": SMPP | {"window": 0}}, format="json")
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"window"}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**SMPP, "window": 0}, "window"),
        ({**SMPP, "bind_mode": "sideways"}, "bind_mode"),
        ({k: v for k, v in SMPP.items() if k != "host"}, "host"),
        ({**SMPP, "india_tlv_tags": {"pe_id": 0x1000}}, "india_tlv_tags"),
        ({**SMPP, "long_messages": "carrier pigeon"}, "long_messages"),
        ({**SMPP, "surprise": 1}, "surprise"),
        ({**SMPP, "port": "abc"}, "port"),
    ],
)
def test_bad_smpp_settings_are_422_naming_the_setting_and_nothing_is_saved(staff_api, config, field):
    response = create_smpp(staff_api, config=config)
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]
    assert not Connector.objects.exists()


def test_an_smpp_connector_needs_a_password(staff_api):
    response = create_smpp(staff_api, password="")
    assert response.status_code == 422 and "password" in response.json()["errors"]


def test_http_settings_are_checked_too(staff_api):
    body = {"name": "Hook", "kind": "http", "config": {"url": "ftp://x", "method": "DELETE"}}
    response = staff_api.post("/api/v2/sms/connectors", body, format="json")
    assert response.status_code == 422 and set(response.json()["errors"]) == {"url", "method"}


def test_status_lists_each_bind_slot(staff_api):
    uid = create_smpp(staff_api).json()["data"]["id"]
    connector = Connector.objects.get()
    SmppBind.objects.create(connector=connector, slot=0, state="bound", worker="host:1", submitted=7)
    data = staff_api.get(f"/api/v2/sms/connectors/{uid}/status").json()["data"]
    assert [(b["slot"], b["state"], b["submitted"]) for b in data["binds"]] == [(0, "stale", 7)]
    assert (data["bound"], data["queued"], data["unknown"]) == (0, 0, 0)


def test_connectors_and_routes_are_for_platform_staff_only(api):
    client = api()
    assert client.get("/api/v2/sms/connectors").status_code == 403
    assert create_smpp(client).status_code == 403
    assert client.get("/api/v2/sms/routes").status_code == 403


def test_staff_build_a_route_table_with_ordered_connectors(staff_api):
    create_smpp(staff_api)
    create_smpp(staff_api, name="Carrier B")
    body = {"country": "in", "prefix": "+9198", "service": "MKT", "connectors": ["Carrier B", "Carrier A"]}
    response = staff_api.post("/api/v2/sms/routes", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["country"], data["prefix"]) == ("IN", "9198")
    assert [c["name"] for c in data["connectors"]] == ["Carrier B", "Carrier A"]
    route_id = data["id"]
    change = {"connectors": ["Carrier A"]}
    assert staff_api.patch(f"/api/v2/sms/routes/{route_id}", change, format="json").status_code == 200
    assert [s.connector.name for s in Route.objects.get().steps.all()] == ["Carrier A"]
    assert staff_api.post("/api/v2/sms/routes", body, format="json").status_code == 422  # the same route twice
    assert staff_api.delete(f"/api/v2/sms/routes/{route_id}").status_code == 200
    assert staff_api.get(f"/api/v2/sms/routes/{route_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"connectors": ["Nobody"]}, "connectors"),
        ({"connectors": []}, "connectors"),
        ({"country": "XX", "connectors": ["Carrier A"]}, "country"),
        ({"prefix": "91a", "connectors": ["Carrier A"]}, "prefix"),
        ({"route_set": "premium", "connectors": ["Carrier A"]}, "route_set"),
        ({"connectors": ["Carrier A", "Carrier A"]}, "connectors"),
    ],
)
def test_bad_routes_are_422_naming_the_field(staff_api, body, field):
    create_smpp(staff_api)
    response = staff_api.post("/api/v2/sms/routes", body, format="json")
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]


def test_a_route_can_belong_to_a_route_set(staff_api):
    create_smpp(staff_api)
    RouteSet.objects.create(name="premium")
    body = {"route_set": "premium", "connectors": ["Carrier A"]}
    response = staff_api.post("/api/v2/sms/routes", body, format="json")
    assert response.status_code == 201 and response.json()["data"]["route_set"] == "premium"


def test_the_staff_page_lists_connectors_with_bind_status_and_refreshes(client_for, account, staff_user, admin_user):
    add_member(account, staff_user, Role.ADMIN)
    connector = Connector.objects.create(name="Carrier A", kind="smpp", config=SMPP, secret="s3cret")
    SmppBind.objects.create(connector=connector, slot=0, state="bound", last_error="bind refused 0x0000000E")
    client = client_for(staff_user)
    page = client.get("/campaigns/connectors/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Carrier A" in html and "bind refused 0x0000000E" in html and 'hx-trigger="every 5s"' in html
    assert "s3cret" not in html
    partial = client.get("/campaigns/connectors/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="connector-rows"')
    detail = client.get(f"/campaigns/connectors/{connector.uid}/").content.decode()
    assert 'data-testid="bind-table"' in detail
    assert client_for(admin_user).get("/campaigns/connectors/").status_code == 403


def test_the_admin_never_shows_the_password_and_keeps_it_when_left_empty(client, account):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root@platform.example", "root@platform.example", "pw-12345!")
    client.force_login(root)
    connector = Connector.objects.create(name="Carrier A", kind="smpp", config=SMPP, secret="s3cret")
    page = client.get(f"/admin/campaigns/connector/{connector.pk}/change/")
    assert page.status_code == 200 and "s3cret" not in page.content.decode()
    form = {"name": "Carrier A", "kind": "smpp", "config": '{"host": "h", "system_id": "a"}', "is_active": "on"}
    client.post(f"/admin/campaigns/connector/{connector.pk}/change/", form)
    connector.refresh_from_db()
    assert (connector.config["host"], connector.secret) == ("h", "s3cret")
    for name in ("route", "routeset", "smppbind", "pendingreceipt", "smppinboundpart"):
        assert client.get(f"/admin/campaigns/{name}/").status_code == 200
        assert client.get(f"/admin/campaigns/{name}/add/").status_code in (200, 403)
