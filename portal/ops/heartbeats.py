"""The beat heartbeat: beat schedules `portal.ops.heartbeat` on the `default` queue, a worker writes the row, so a
fresh row proves that beat and a `default` worker both run."""

from datetime import datetime

from django.utils import timezone

from portal.models import Heartbeat

BEAT = "beat"


def record(name: str = BEAT, at: datetime | None = None) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": at or timezone.now()})
    return heartbeat


def age_seconds(name: str = BEAT, now: datetime | None = None) -> float | None:
    """Seconds since the last beat of `name`, None when it never beat."""
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    if beat_at is None:
        return None
    return max(0.0, ((now or timezone.now()) - beat_at).total_seconds())
