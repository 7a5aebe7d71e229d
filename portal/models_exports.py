"""Exports: a filtered list (messages, delivery reports, inbound messages, contacts) written to a CSV or XLSX file
by a background job, downloadable by its account until it expires.

`portal.exports.services` creates and runs them; each app registers the kinds of rows it exports
(`portal.exports.registry`).
"""

from django.conf import settings
from django.db import models

from portal.tenancy import AccountQuerySet, AccountScopedModel

__all__ = ["Export", "ExportFormat", "ExportKind", "ExportState"]


class ExportKind(models.TextChoices):
    MESSAGES = "messages", "Message log"
    DELIVERY_REPORTS = "delivery_reports", "Delivery reports"
    INBOUND = "inbound", "Inbound messages"
    CONTACTS = "contacts", "Contacts"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINAL_STATES = (ExportState.DONE, ExportState.FAILED)


class ExportQuerySet(AccountQuerySet):
    def expired(self, now):
        return self.filter(expires_at__lte=now)


class Export(AccountScopedModel):
    """One export job and its file. `filters` are the list's filters (validated by its FilterSet) as given."""

    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    format = models.CharField(max_length=4, choices=ExportFormat.choices, default=ExportFormat.CSV)
    filters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=ExportState.choices, default=ExportState.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the rows written.")
    rows = models.PositiveIntegerField(default=0, help_text="Rows written so far (all of them once done).")
    rows_total = models.PositiveIntegerField(default=0, help_text="Rows matching the filters when the job started.")
    file = models.FileField(upload_to="exports/", max_length=255, blank=True, help_text="Under MEDIA_ROOT.")
    file_name = models.CharField(max_length=120, help_text="The name the download is saved as.")
    size = models.BigIntegerField(default=0, help_text="Bytes of the file.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True, help_text="The export and its file are deleted then.")

    objects = ExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="export_account_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_downloadable(self) -> bool:
        return self.state == ExportState.DONE and bool(self.file)
