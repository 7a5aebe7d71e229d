"""Demo contacts: a few thousand contacts with tags, groups, attributes and two segments, loaded in bulk."""

import random

from django.db import transaction

from contacts.demo_unsubscribers import load as load_opt_outs
from contacts.models import Contact, ContactTag, Group, GroupMember, Tag, TagOperator
from contacts.phones import normalize_many
from contacts.services import save_segment

CONTACTS = 3000
FIRST_NAMES = [
    "Asha",
    "Ravi",
    "Priya",
    "Arjun",
    "Meera",
    "Vikram",
    "Anita",
    "Karan",
    "Sneha",
    "Rahul",
    "Olivia",
    "Jack",
]
LAST_NAMES = ["Rao", "Sharma", "Iyer", "Patel", "Khan", "Singh", "Das", "Nair", "Smith", "Brown"]
CITIES = ["Pune", "Mumbai", "Bengaluru", "Delhi", "Chennai", "London"]
PLANS = ["free", "silver", "gold"]
TAGS = ["vip", "newsletter", "promo-optin", "loyal", "new", "inactive", "festive-2026", "app-user"]
GROUPS = [("Newsletter", "Weekly offers"), ("Store Pune", ""), ("Store Mumbai", ""), ("Beta testers", "")]


def load(account, user) -> None:
    """Create the demo audience once (skipped when the account already has contacts)."""
    if Contact.objects.filter(account=account).exists():
        return
    rng = random.Random(7)
    with transaction.atomic():
        contacts = _contacts(account, rng)
        tags = Tag.objects.bulk_create(Tag(account=account, name=name) for name in TAGS)
        groups = Group.objects.bulk_create(Group(account=account, name=n, description=d) for n, d in GROUPS)
        ContactTag.objects.bulk_create(
            (ContactTag(contact=c, tag=t) for c in contacts for t in rng.sample(tags, rng.choice((0, 1, 2, 2, 3)))),
            batch_size=2000,
        )
        GroupMember.objects.bulk_create(
            (GroupMember(contact=c, group=g) for c in contacts for g in groups if rng.random() < 0.3),
            batch_size=2000,
        )
        by_name = {tag.name: tag for tag in tags}
        save_segment(
            account,
            user,
            name="Engaged VIPs",
            description="VIP or loyal, not inactive",
            positive_tags=[by_name["vip"], by_name["loyal"]],
            positive_tags_operator=TagOperator.ANY,
            negative_tags=[by_name["inactive"]],
        )
        save_segment(
            account,
            user,
            name="Gold newsletter readers in Pune",
            positive_tags=[by_name["newsletter"]],
            groups=[groups[1]],
            conditions=[{"key": "plan", "operator": "equals", "value": "gold"}],
        )
    load_opt_outs(account, user)


def _contacts(account, rng: random.Random) -> list[Contact]:
    raw = rng.sample(range(10**9), CONTACTS)
    numbers = [f"+44 7400 {n % 10**6:06d}" if i % 20 == 0 else f"9{n:09d}" for i, n in enumerate(raw)]
    results = normalize_many(numbers, account.default_country)
    contacts = []
    for result in results:
        if not result.valid:
            continue
        first, last, city = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.choice(CITIES)
        contacts.append(
            Contact(
                account=account,
                phone=result.e164,
                country=result.country or "",
                number_type=result.number_type or "",
                phone_valid=True,
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{len(contacts)}@example.com".lower() if rng.random() < 0.7 else "",
                company=rng.choice(["", "", "DemoMart", "Acme"]),
                attributes={"city": city, "plan": rng.choice(PLANS)},
            )
        )
    unique = list({contact.phone: contact for contact in contacts}.values())
    return Contact.objects.bulk_create(unique, batch_size=1000)
