"""DLT content templates, their body history, and blocked template ids."""

from django.conf import settings
from django.db import models

from portal.tenancy import AccountQuerySet, AccountScopedModel

__all__ = ["BlockedTemplate", "BlockedTemplateStatus", "Template", "TemplateStatus", "TemplateType", "TemplateVersion"]


UUID_PATTERN = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


class TemplateType(models.TextChoices):
    TRANSACTIONAL = "T", "Transactional"
    PROMOTIONAL = "P", "Promotional"
    SERVICE_IMPLICIT = "SI", "Service Implicit"
    SERVICE_EXPLICIT = "SE", "Service Explicit (legacy)"


class TemplateStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class BlockedTemplateStatus(models.IntegerChoices):
    INACTIVE = 0, "Inactive"
    ACTIVE = 1, "Active"


class TemplateQuerySet(AccountQuerySet):
    def approved(self):
        return self.filter(status=TemplateStatus.APPROVED)

    def pending(self):
        return self.filter(status=TemplateStatus.PENDING)

    def not_blocked(self):
        """Templates whose DLT template id or public id is not an active blocked template of their account.

        Public ids are compared in Python (a UUID column renders differently per database), so the few blocked
        entries that hold a public id are read when this is called."""
        active = BlockedTemplate.objects.filter(status=BlockedTemplateStatus.ACTIVE)
        by_dlt_id = active.filter(account=models.OuterRef("account"), template_id=models.OuterRef("dlt_template_id"))
        queryset = self.exclude(models.Exists(by_dlt_id.exclude(template_id="")))
        by_uid = models.Q()
        for account_id, template_id in active.filter(template_id__regex=UUID_PATTERN).values_list(
            "account_id", "template_id"
        ):
            by_uid |= models.Q(account_id=account_id, uid=template_id)
        return queryset.exclude(by_uid) if by_uid else queryset

    def usable(self):
        """Approved, of an approved sender, and not blocked: what may be matched and sent."""
        from campaigns.models.senders import SenderStatus

        return self.approved().filter(sender__status=SenderStatus.APPROVED).not_blocked()


class Template(AccountScopedModel):
    """A content template: fixed text with `{{variables}}`, registered for one sender."""

    name = models.CharField(max_length=100)
    alias = models.SlugField(max_length=100, help_text="Unique in the account; the slug of the name by default.")
    body = models.TextField()
    sender = models.ForeignKey(
        "campaigns.Sender", on_delete=models.PROTECT, null=True, blank=True, related_name="templates"
    )
    template_type = models.CharField(max_length=2, choices=TemplateType.choices, default=TemplateType.PROMOTIONAL)
    is_english = models.BooleanField(default=True, help_text="Off for regional-language (Unicode) templates.")
    dlt_template_id = models.CharField(max_length=40, blank=True, db_index=True, verbose_name="DLT template id")
    consent_template = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Required for SE."
    )
    status = models.CharField(max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.PENDING)
    reason = models.TextField(blank=True, help_text="Why the template was rejected.")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = TemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["account", "alias"], name="unique_template_alias")]
        indexes = [models.Index(fields=["account", "status"], name="template_account_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == TemplateStatus.APPROVED

    def is_blocked(self) -> bool:
        """True when the public id or the DLT template id is an active blocked template of the account."""
        ids = [str(self.uid), *([self.dlt_template_id] if self.dlt_template_id else [])]
        active = BlockedTemplate.objects.filter(account_id=self.account_id, status=BlockedTemplateStatus.ACTIVE)
        return active.filter(template_id__in=ids).exists()

    @property
    def is_legacy_type(self) -> bool:
        """Service Explicit was retired in India in 2025; it is sent under the promotional rules."""
        return self.template_type == TemplateType.SERVICE_EXPLICIT


class TemplateVersion(AccountScopedModel):
    """One saved body of a template, kept when the body changes."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["template", "version"], name="unique_template_version")]

    def __str__(self) -> str:
        return f"{self.template} v{self.version}"


class BlockedTemplate(AccountScopedModel):
    """A template id (DLT template id or public id) that must never match or be sent while active."""

    template_id = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(
        choices=BlockedTemplateStatus.choices, default=BlockedTemplateStatus.ACTIVE
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["account", "template_id"], name="unique_blocked_template")]

    def __str__(self) -> str:
        return self.template_id
