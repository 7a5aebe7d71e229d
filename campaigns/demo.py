"""Demo data of the campaigns app (`manage.py load_demo`)."""

from campaigns import demo_campaigns, demo_templates, demo_verify


def load(account, user) -> None:
    demo_templates.load(account, user)
    demo_campaigns.load(account, user)
    demo_verify.load(account, user)
