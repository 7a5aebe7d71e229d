"""Bulk imports (contacts, unsubscribers, blocked templates) and the rows they could not import."""

from django.conf import settings
from django.db import models

from portal.tenancy import AccountScopedModel

__all__ = ["Import", "ImportKind", "ImportMode", "ImportRowError", "ImportState"]


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", "Contacts"
    UNSUBSCRIBERS = "unsubscribers", "Unsubscribers"
    BLOCKED_TEMPLATES = "blocked_templates", "Blocked templates"


class ImportMode(models.TextChoices):
    CREATE = "create", "Create new only"
    UPSERT = "upsert", "Create or update"
    UPDATE = "update", "Update existing only"


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    READING = "reading", "Reading"
    VALIDATING = "validating", "Validating"
    WRITING = "writing", "Writing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATES = (ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED)


def import_upload_path(instance: "Import", filename: str) -> str:
    return f"imports/{instance.account_id}/{instance.uid}/upload"


class Import(AccountScopedModel):
    """One uploaded file and what importing it did. Counters and state are updated while it runs."""

    kind = models.CharField(max_length=20, choices=ImportKind.choices, default=ImportKind.CONTACTS)
    file = models.FileField(upload_to=import_upload_path, max_length=255)
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    file_type = models.CharField(max_length=8, blank=True, help_text="xlsx, xls or csv, told by content.")
    mode = models.CharField(max_length=10, choices=ImportMode.choices, default=ImportMode.UPSERT)
    keep_existing = models.JSONField(default=list, blank=True, help_text="Fields whose existing value is kept.")
    group = models.ForeignKey("contacts.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    tags = models.JSONField(default=list, blank=True, help_text="Tag names applied to every imported row.")
    mapping = models.JSONField(default=dict, blank=True, help_text="Header (or column letter) → field overrides.")
    options = models.JSONField(default=dict, blank=True, help_text="Options of the import kind's target.")
    dry_run = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=ImportState.choices, default=ImportState.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(
        default=1, help_text="Runs of this start: one more each time a stalled run is put back in the queue."
    )
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    rows_estimate = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    opted_out = models.PositiveIntegerField(default=0, help_text="Rows whose number is opted out (stays so).")
    report = models.JSONField(default=dict, blank=True, help_text="Mapping, preview rows and notes.")
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per stage.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "kind", "-created_at"], name="import_account_kind_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import of {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def progress_percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        if not self.rows_estimate:
            return 0
        return min(99, int(100 * self.rows_read / self.rows_estimate))

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ImportRowError(models.Model):
    """A row (or a duplicated value) the import did not write, with where it is and why."""

    # No index of its own: the (job, position, id) index below serves lookups and cascades by job.
    job = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="row_errors", db_index=False)
    position = models.BigIntegerField(
        default=0, help_text="The row's place in the file (sheet order, then row number): errors are listed by it."
    )
    sheet = models.CharField(max_length=100, blank=True)
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=120, blank=True)
    value = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=40)
    reason = models.CharField(max_length=255)

    class Meta:
        # File order: validation and write errors (written by parallel writers) and duplicates are recorded in
        # whatever order they are found.
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["job", "position", "id"], name="import_error_file_order")]

    def __str__(self) -> str:
        where = f"{self.sheet} row {self.row}" if self.sheet else f"row {self.row}"
        return f"{where}: {self.reason}"
