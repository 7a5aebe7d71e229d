"""Navigation entries this app adds to the portal's menu."""

from portal.navigation import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("Contacts", "Contacts", "contacts:contact_list", order=10),
    NavItem("Contacts", "Groups", "contacts:group_list", order=20),
    NavItem("Contacts", "Tags", "contacts:tag_list", order=30),
    NavItem("Contacts", "Segments", "contacts:segment_list", order=40),
    NavItem("Contacts", "Import", "contacts:import_list", order=50),
    NavItem("Contacts", "Unsubscribers", "contacts:unsubscriber_list", order=60),
    NavItem("Contacts", "Inbound messages", "contacts:inbound_list", order=65),
    NavItem("Contacts", "Numbers", "contacts:number_list", order=67),
]
