"""Navigation entries this app adds to the portal's menu."""

from portal.navigation import NavItem

NAV_ITEMS: list[NavItem] = [
    NavItem("Campaigns", "Campaigns", "campaigns:campaign_list", order=10),
    NavItem("Campaigns", "Message log", "campaigns:message_list", order=20),
    NavItem("Campaigns", "Scheduled sends", "campaigns:scheduled_list", order=25),
    NavItem("Campaigns", "Sender IDs", "campaigns:sender_list", order=30),
    NavItem("Campaigns", "Templates", "campaigns:template_list", order=40),
    NavItem("Campaigns", "Verify", "campaigns:verify", order=50),
    NavItem("Compliance", "Review queue", "campaigns:review_queue", capability="review", order=10),
    NavItem("Compliance", "Blocked templates", "campaigns:blockedtemplate_list", order=30),
    NavItem("Settings", "Balance", "campaigns:balance", order=30),
    NavItem("Settings", "Pricing", "campaigns:pricing", order=35),
    NavItem("Developers", "SMPP", "campaigns:smpp", order=30),
    NavItem("Platform", "Connectors", "campaigns:connector_list", staff_only=True, order=10),
]
