"""Contacts (subscribers), their identifiers, tags, groups and segments.

Tag and group membership live in lean link tables (`ContactTag`, `GroupMember`: two foreign keys and a
unique pair) so that imports can load millions of links with COPY / `INSERT … SELECT` and audience
queries can use `contact_id IN (SELECT contact_id FROM link WHERE tag_id …)` shapes. Their foreign keys
have no database constraint; `contacts.links` says how they stay consistent.
"""

import uuid

from django.db import models
from django.db.models.functions import Lower

from portal.tenancy import AccountScopedModel

__all__ = [
    "AttributeOperator",
    "Contact",
    "ContactTag",
    "Gender",
    "Group",
    "GroupMember",
    "Identifier",
    "IdentifierType",
    "Segment",
    "Tag",
    "TagOperator",
    "new_identity",
]

PHONE_MAX_LENGTH = 20
NAME_MAX_LENGTH = 100


def new_identity() -> str:
    """Identity given to a contact created without one."""
    return uuid.uuid4().hex


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "", "Not given"


class Tag(AccountScopedModel):
    """A label on contacts (names unique per account, case-insensitively)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("account", Lower("name"), name="unique_tag_name_per_account")]

    def __str__(self) -> str:
        return self.name


class Group(AccountScopedModel):
    """A named list of contacts; a contact can be in many groups. Deleting a group keeps its contacts."""

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("account", Lower("name"), name="unique_group_name_per_account")]

    def __str__(self) -> str:
        return self.name


class Contact(AccountScopedModel):
    """A subscriber. `phone` is E.164; `country`, `number_type` and `phone_valid` are computed when it is written."""

    # The unique (account, phone) index leads with the account: no index of its own.
    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    # No index of its own either: an account's contacts are listed by the (account, -created_at, -id) index, and
    # the admin lists all accounts' contacts by id. Every contact an import writes would pay for it.
    created_at = models.DateTimeField(auto_now_add=True)
    identity = models.CharField(max_length=100, default=new_identity, help_text="Your own id of this contact.")
    phone = models.CharField(max_length=PHONE_MAX_LENGTH, help_text="E.164 with +.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 of the phone number.")
    number_type = models.CharField(max_length=24, blank=True, help_text="mobile, fixed_line, … (carrier-independent).")
    phone_valid = models.BooleanField(default=True)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    last_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True, default=Gender.UNKNOWN)
    birth_date = models.DateField(null=True, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    company = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="Free values for template variables.")
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts", blank=True)
    groups = models.ManyToManyField(Group, through="GroupMember", related_name="contacts", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "phone"], name="unique_contact_phone_per_account"),
            models.UniqueConstraint(fields=["account", "identity"], name="unique_contact_identity_per_account"),
        ]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="contact_account_created"),
            models.Index(fields=["account", "country"], name="contact_account_country"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.phone

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class ContactTag(models.Model):
    """Link contact ↔ tag. The unique (tag, contact) index serves "contacts with tag T" lookups."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "contact"], name="unique_contact_tag")]

    def __str__(self) -> str:
        return f"{self.contact_id} ↔ tag {self.tag_id}"


class GroupMember(models.Model):
    """Link contact ↔ group. The unique (group, contact) index serves "members of group G" lookups."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "contact"], name="unique_group_member")]

    def __str__(self) -> str:
        return f"{self.contact_id} ↔ group {self.group_id}"


class IdentifierType(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    WHATSAPP = "whatsapp", "WhatsApp"
    VIBER = "viber", "Viber"
    CUSTOM = "custom", "Custom"


class Identifier(AccountScopedModel):
    """Another address of a contact on some channel (phone, e-mail, WhatsApp, Viber, custom)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identifiers")
    type = models.CharField(max_length=12, choices=IdentifierType.choices)
    value = models.CharField(max_length=255)

    class Meta:
        ordering = ["type", "value"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "type", "value"], name="unique_identifier_per_contact")
        ]
        indexes = [models.Index(fields=["account", "type", "value"], name="identifier_account_lookup")]

    def __str__(self) -> str:
        return f"{self.type}: {self.value}"


class TagOperator(models.TextChoices):
    ANY = "any", "any of"
    ALL = "all", "all of"


class AttributeOperator(models.TextChoices):
    EQUALS = "equals", "equals"
    CONTAINS = "contains", "contains"
    EXISTS = "exists", "exists"


class Segment(AccountScopedModel):
    """A saved audience rule over tags, groups and attributes, resolved by `contacts.audience`.

    Contacts with any/all of `positive_tags`, and not any/all of `negative_tags`, in one of `groups` when
    given, matching every item of `conditions` (a list of ``{"key", "operator", "value"}``).
    Empty positive tags mean every contact.
    """

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.CharField(max_length=255, blank=True)
    positive_tags = models.ManyToManyField(Tag, related_name="+", blank=True)
    positive_tags_operator = models.CharField(max_length=3, choices=TagOperator.choices, default=TagOperator.ANY)
    negative_tags = models.ManyToManyField(Tag, related_name="+", blank=True)
    negative_tags_operator = models.CharField(max_length=3, choices=TagOperator.choices, default=TagOperator.ANY)
    groups = models.ManyToManyField(Group, related_name="segments", blank=True)
    conditions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("account", Lower("name"), name="unique_segment_name_per_account")]

    def __str__(self) -> str:
        return self.name
