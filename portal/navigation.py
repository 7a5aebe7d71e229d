"""The main menu: each app lists its entries in `<app>/navigation.py` as NAV_ITEMS."""

from dataclasses import dataclass
from importlib import import_module

from django.urls import NoReverseMatch, reverse

from portal.roles import has_capability

SECTIONS = ["Contacts", "Campaigns", "Compliance", "Developers", "Settings", "Platform"]
APPS_WITH_NAVIGATION = ["portal", "contacts", "campaigns"]


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str
    capability: str = "read"
    order: int = 50
    staff_only: bool = False  # platform staff (connectors, routes), whatever their role in the account


NAV_ITEMS = [
    NavItem("Developers", "API tokens", "portal:token_list", order=10),
    NavItem("Developers", "Webhooks", "portal:webhook_list", order=20),
    NavItem("Developers", "API docs", "portal-api:docs", order=90),
    NavItem("Settings", "Account", "portal:account_settings", order=10),
    NavItem("Settings", "Members", "portal:member_list", order=20),
    NavItem("Settings", "Two-factor login", "portal:two_factor", order=30),
    NavItem("Settings", "Exports", "portal:export_list", order=40),
    NavItem("Settings", "Audit log", "portal:audit_list", order=50),
]


def all_items() -> list[NavItem]:
    items = []
    for app in APPS_WITH_NAVIGATION:
        module = import_module(f"{app}.navigation")
        items.extend(module.NAV_ITEMS)
    return items


def menu_for(role: str | None, current_path: str, is_staff: bool = False) -> list[dict]:
    """Sections with the entries the role may see; the entry whose URL is the longest prefix of the path is active."""
    sections: dict[str, list[dict]] = {name: [] for name in SECTIONS}
    entries = []
    for item in sorted(all_items(), key=lambda i: (i.order, i.label)):
        if not has_capability(role, item.capability) or (item.staff_only and not is_staff):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        entry = {"label": item.label, "url": url, "active": False}
        sections.setdefault(item.section, []).append(entry)
        entries.append(entry)
    matching = [entry for entry in entries if entry["url"] != "/" and current_path.startswith(entry["url"])]
    if matching:
        max(matching, key=lambda entry: len(entry["url"]))["active"] = True
    return [{"name": name, "items": items} for name, items in sections.items() if items]
