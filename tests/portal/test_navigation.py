from portal.navigation import menu_for


def active_urls(menu):
    return [item["url"] for section in menu for item in section["items"] if item["active"]]


def test_only_the_most_specific_entry_is_active(db):
    assert active_urls(menu_for("admin", "/developers/tokens/")) == ["/developers/tokens/"]
    assert active_urls(menu_for("admin", "/settings/members/12/")) == ["/settings/members/"]


def test_entries_follow_the_role():
    labels = {item["label"] for section in menu_for("viewer", "/") for item in section["items"]}
    assert "API tokens" in labels
