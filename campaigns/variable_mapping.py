"""Where a send's template variables come from, by default and as required.

A variable is mapped by default to the contact field its name stands for (`name`, `fname` → `first_name`, …),
else to the contact attribute of the same name when a contact of the account has it. Every variable must end
up with a source or a default (`missing_values`), otherwise messages would go out with empty values.
"""

from collections.abc import Iterable, Mapping

from campaigns.links import RESERVED_VARIABLES
from campaigns.rendering import ATTRIBUTE_PREFIX
from campaigns.variables import braced

FIELD_SYNONYMS = {
    "first_name": ("first_name", "firstname", "fname", "name", "given_name", "forename"),
    "last_name": ("last_name", "lastname", "lname", "surname", "family_name"),
    "email": ("email", "e_mail", "mail"),
    "phone": ("phone", "mobile", "msisdn", "number", "phone_number"),
    "company": ("company", "organisation", "organization", "business"),
    "postal_code": ("postal_code", "postcode", "zip", "zip_code", "pincode", "pin_code"),
    "birth_date": ("birth_date", "birthday", "dob", "date_of_birth"),
    "gender": ("gender", "sex"),
    "identity": ("identity", "customer_id", "contact_id"),
}
FIELD_BY_NAME = {synonym: field for field, synonyms in FIELD_SYNONYMS.items() for synonym in synonyms}


def field_for(name: str) -> str | None:
    """The contact field a variable name stands for, if any."""
    return FIELD_BY_NAME.get(name.lower())


def attribute_exists(account, name: str) -> bool:
    """Whether some contact of the account has the attribute `name`."""
    from contacts.models import Contact

    return Contact.objects.for_account(account).filter(attributes__has_key=name).exists()


def default_source(account, name: str) -> str:
    """`first_name` for `fname`, `attributes.city` for `city` when contacts have it, else empty."""
    field = field_for(name)
    if field:
        return field
    return f"{ATTRIBUTE_PREFIX}{name}" if attribute_exists(account, name) else ""


def with_default_sources(account, variables: Iterable[str], mapping: Mapping | None) -> dict:
    """The mapping with a default source for each variable that has none (`{{smart_link}}` is the send's)."""
    complete = {}
    for name in variables:
        if name in RESERVED_VARIABLES:
            continue
        rule = dict((mapping or {}).get(name) or {})
        if not (rule.get("source") or "").strip():
            rule["source"] = default_source(account, name)
        rule.setdefault("default", "")
        complete[name] = rule
    return complete


MAPPING_REMEDY = "map it to a contact field or attribute, or give a default"


def missing_values(variables: Iterable[str], mapping: Mapping | None, remedy: str = MAPPING_REMEDY) -> list[str]:
    """One message per variable that has neither a source nor a default, naming the variable."""
    missing = []
    for name in variables:
        if name in RESERVED_VARIABLES:
            continue
        rule = (mapping or {}).get(name) or {}
        if not (rule.get("source") or "").strip() and not str(rule.get("default") or "").strip():
            missing.append(f"Variable {braced(name)} has no value: {remedy}.")
    return missing
