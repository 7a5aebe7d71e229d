"""The audit trail: services call `record` for approvals, rejections, deletions, imports, sends and credits."""

from django.db import models

from portal.models import Account, AuditEvent


def record(account: Account | None, actor, verb: str, obj: models.Model, before=None, after=None) -> AuditEvent:
    """Write one AuditEvent; `actor` is a user or None for the system."""
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor.get_username()
    else:
        actor = None
    return AuditEvent.objects.create(
        account=account,
        actor=actor,
        actor_label=label,
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(getattr(obj, "uid", None) or obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
    )


def trail_for(obj: models.Model):
    """Audit events about one object, newest first."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(getattr(obj, "uid", None) or obj.pk)
    ).select_related("actor")
