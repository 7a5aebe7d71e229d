"""Navigation entries this app adds to the portal's menu."""

from portal.navigation import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("Contacts", "Unsubscribers", "contacts:unsubscriber_list", order=60),
    NavItem("Contacts", "Inbound messages", "contacts:inbound_list", order=65),
]
