"""Template helpers of the portal: masking of numbers and readable audit changes."""

from django import template

from portal.masking import mask_numbers_in_text

register = template.Library()


@register.filter
def masked_text(text, account):
    """`{{ value|masked_text:current_account }}`: free text with phone numbers masked for mobile_secure."""
    return mask_numbers_in_text(text, account)


@register.simple_tag
def audit_changes(event, account) -> list[dict]:
    """Rows `{field, before, after}` for an audit event, values as readable text, numbers masked."""
    before = event.before if isinstance(event.before, dict) else ({} if event.before is None else {"": event.before})
    after = event.after if isinstance(event.after, dict) else ({} if event.after is None else {"": event.after})
    rows = []
    for field in list(dict.fromkeys([*before, *after])):
        old, new = before.get(field), after.get(field)
        if field in before and field in after and old == new:
            continue
        rows.append(
            {
                "field": field.replace("_", " "),
                "before": mask_numbers_in_text(_readable(old), account) if field in before else "",
                "after": mask_numbers_in_text(_readable(new), account) if field in after else "",
            }
        )
    return rows


def _readable(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_readable(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_readable(item)}" for key, item in value.items())
    return str(value)
