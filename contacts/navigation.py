"""Navigation entries this app adds to the portal's menu."""

from portal.navigation import NavItem

NAV_ITEMS: list[NavItem] = []
