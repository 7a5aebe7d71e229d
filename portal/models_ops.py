"""Heartbeats: a periodic task writes its row; /readyz reads how old it is (portal/ops/heartbeats.py)."""

from django.db import models

__all__ = ["Heartbeat"]


class Heartbeat(models.Model):
    """The last time a named periodic task ran (one row per name, overwritten on every beat)."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"
