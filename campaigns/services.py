"""Writes on sender IDs, content templates and blocked templates: validated, atomic, audited.

Views, API views and imports call these verbs; each state transition (pending → approved | rejected) records the
reviewer and the time, writes an AuditEvent with the state before and after, and tells the author in the UI.
Field errors are raised as Django `ValidationError({field: [messages]})`; transitions that the current state does
not allow, duplicates and deletions blocked by references raise `Conflict`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from campaigns.link_rules import short_domain_unlisted
from campaigns.matching import invalidate_account
from campaigns.models import (
    BlockedTemplate,
    BlockedTemplateStatus,
    Sender,
    SenderStatus,
    Template,
    TemplateStatus,
    TemplateVersion,
)
from campaigns.sender_rules import normalize_sender_name, validate_sender
from campaigns.template_rules import ERROR, AccountFacts, Finding, normalize_newlines, validate_template
from portal import cleanup
from portal.audit import record
from portal.models import CleanupBatch
from portal.notify import notify
from portal.service_errors import ServiceError

SENDER_FIELDS = ("name", "country_code", "service", "entity_id", "status", "reason")
TEMPLATE_FIELDS = (
    "name",
    "alias",
    "body",
    "sender",
    "template_type",
    "is_english",
    "dlt_template_id",
    "consent_template",
    "status",
    "reason",
    "version",
)
SENDER_REVIEW_FIELDS = ("country_code", "service")
TEMPLATE_CONTENT_FIELDS = ("body", "sender", "template_type", "is_english", "consent_template")
FINDING_FIELDS = {"type": "template_type"}


class Conflict(ServiceError):
    """The request conflicts with the object's state (a transition not allowed, a duplicate, a reference); the API
    answers 409 through its exception handler."""


# --- snapshots -----------------------------------------------------------------------------------------------


def snapshot(obj, fields: Iterable[str]) -> dict:
    data = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "_meta"):
            value = str(value)
        data[name] = value
    return data


def _errors_from(findings: list[Finding], field_names: dict[str, str] | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in findings:
        if item.severity == ERROR:
            name = (field_names or {}).get(item.field, item.field)
            errors.setdefault(name, []).append(item.message)
    return errors


def _notify_author(obj, acting_user, text: str, link: str, level: str) -> None:
    """Tell the author of a sender or template about a decision (not when they decided themselves)."""
    if obj.created_by_id and obj.created_by_id != getattr(acting_user, "pk", None):
        notify(obj.account, obj.created_by, text, link=link, level=level)


# --- senders -------------------------------------------------------------------------------------------------


def sender_findings(account, *, name: str, country_code: str, service: str, entity_id: str = "") -> list[Finding]:
    return validate_sender(
        normalize_sender_name(name, country_code),
        country_code=(country_code or "").upper(),
        service=service,
        entity_id=entity_id,
        own_brands=tuple(account.brand_names or ()),
    )


def _check_sender(account, sender: Sender) -> None:
    findings = sender_findings(
        account,
        name=sender.name,
        country_code=sender.country_code,
        service=sender.service,
        entity_id=sender.entity_id,
    )
    errors = _errors_from(findings)
    duplicate = (
        Sender.objects.for_account(account)
        .filter(name=sender.name, country_code=sender.country_code)
        .exclude(pk=sender.pk)
    )
    if not errors and duplicate.exists():
        raise Conflict(f"Sender {sender.name} already exists for {sender.country_code}.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_sender(account, *, acting_user, name: str, country_code: str, service: str, entity_id: str = "") -> Sender:
    country = (country_code or "").strip().upper()
    sender = Sender(
        account=account,
        name=normalize_sender_name(name, country),
        country_code=country,
        service=service,
        entity_id=(entity_id or "").strip(),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    _check_sender(account, sender)
    sender.save()
    record(account, acting_user, "sender.created", sender, after=snapshot(sender, SENDER_FIELDS))
    return sender


@transaction.atomic
def update_sender(sender: Sender, *, acting_user, **changes) -> Sender:
    """Edit country, service or entity id. The name never changes; a reviewed sender goes back to pending."""
    sender = Sender.objects.select_for_update().get(pk=sender.pk)
    if "name" in changes and normalize_sender_name(changes["name"], sender.country_code) != sender.name:
        raise ValidationError({"name": ["The name of a sender ID cannot be changed: apply for a new sender ID."]})
    before = snapshot(sender, SENDER_FIELDS)
    for name in ("country_code", "service", "entity_id"):
        if name in changes and changes[name] is not None:
            value = (changes[name] or "").strip()
            setattr(sender, name, value.upper() if name == "country_code" else value)
    changed = [name for name in SENDER_REVIEW_FIELDS if getattr(sender, name) != before[name]]
    if sender.status == SenderStatus.REJECTED or (sender.status == SenderStatus.APPROVED and changed):
        sender.status, sender.reason = SenderStatus.PENDING, ""
        sender.reviewed_by, sender.reviewed_at = None, None
    _check_sender(sender.account, sender)
    sender.save()
    record(sender.account, acting_user, "sender.updated", sender, before=before, after=snapshot(sender, SENDER_FIELDS))
    return sender


def _review_sender(sender: Sender, *, acting_user, status: int, reason: str) -> Sender:
    sender = Sender.objects.select_for_update().get(pk=sender.pk)
    if sender.status != SenderStatus.PENDING:
        raise Conflict(
            f"Sender {sender.name} is {sender.get_status_display().lower()}; only pending senders are reviewed."
        )
    before = snapshot(sender, SENDER_FIELDS)
    sender.status, sender.reason = status, reason
    sender.reviewed_by, sender.reviewed_at = acting_user, timezone.now()
    sender.save()
    verb = "sender.approved" if status == SenderStatus.APPROVED else "sender.rejected"
    record(sender.account, acting_user, verb, sender, before=before, after=snapshot(sender, SENDER_FIELDS))
    decision = "approved" if status == SenderStatus.APPROVED else f"rejected: {reason}"
    _notify_author(
        sender,
        acting_user,
        f"Sender {sender.name} was {decision}",
        reverse("campaigns:sender_detail", args=[sender.uid]),
        "success" if status == SenderStatus.APPROVED else "warning",
    )
    return sender


@transaction.atomic
def approve_sender(sender: Sender, *, acting_user, reason: str = "") -> Sender:
    return _review_sender(sender, acting_user=acting_user, status=SenderStatus.APPROVED, reason=(reason or "").strip())


@transaction.atomic
def reject_sender(sender: Sender, *, acting_user, reason: str) -> Sender:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give the reason for the rejection: the author sees it."]})
    return _review_sender(sender, acting_user=acting_user, status=SenderStatus.REJECTED, reason=reason)


@transaction.atomic
def delete_sender(sender: Sender, *, acting_user) -> None:
    before = snapshot(sender, SENDER_FIELDS)
    try:
        with transaction.atomic():
            sender.delete()
    except (ProtectedError, IntegrityError):
        raise Conflict(f"Sender {sender.name} is used by templates or messages; delete those first.") from None
    record(sender.account, acting_user, "sender.deleted", sender, before=before)


# --- templates -----------------------------------------------------------------------------------------------


def template_facts(account, *, body: str, sender: Sender | None, consent_template, exclude=None) -> AccountFacts:
    """Account facts for the rule engine; the duplicate rule only needs templates with the same body."""
    same_body = Template.objects.for_account(account).filter(body=body.strip()).select_related("sender")
    if exclude is not None and exclude.pk:
        same_body = same_body.exclude(pk=exclude.pk)
    others: dict[str, list[str]] = {}
    for other in same_body:
        if other.sender_id and (sender is None or other.sender_id != sender.pk):
            others.setdefault(other.sender.name, []).append(other.body)
    return AccountFacts(
        entity_type=account.entity_type,
        brand_names=tuple(account.brand_names or ()),
        other_bodies_by_sender=others,
        has_consent_template=consent_template is not None,
        links_need_whitelisting=short_domain_unlisted(account, sender),
    )


def lint_template(
    account,
    *,
    body: str,
    template_type: str,
    is_english: bool,
    sender: Sender | None = None,
    consent_template=None,
    name: str | None = None,
    exclude: Template | None = None,
) -> list[Finding]:
    """All findings for a template as it would be saved (used by the live lint, the API and the services)."""
    body = normalize_newlines(body)
    facts = template_facts(account, body=body, sender=sender, consent_template=consent_template, exclude=exclude)
    return validate_template(
        body,
        template_type=template_type,
        is_english=is_english,
        facts=facts,
        name=name,
        sender=sender.name if sender else None,
        sender_country=sender.country_code if sender else None,
    )


def lint_saved_template(template: Template) -> list[Finding]:
    """The findings of a template as it stands (its own body does not count as a duplicate)."""
    return lint_template(
        template.account,
        body=template.body,
        template_type=template.template_type,
        is_english=template.is_english,
        sender=template.sender,
        consent_template=template.consent_template,
        name=template.name,
        exclude=template,
    )


def _check_template(template: Template) -> list[Finding]:
    """Field errors block the save; warnings are returned."""
    findings = lint_saved_template(template)
    errors = _errors_from(findings, FINDING_FIELDS)
    _check_references(template, errors)
    if errors:
        raise ValidationError(errors)
    if Template.objects.for_account(template.account).filter(alias=template.alias).exclude(pk=template.pk).exists():
        raise Conflict(f"The alias “{template.alias}” is already used by another template.")
    return [item for item in findings if item.severity != ERROR]


def _check_references(template: Template, errors: dict[str, list[str]]) -> None:
    account = template.account
    if template.sender is None:
        errors.setdefault("sender", []).append("Choose the sender ID (header) the template is registered for.")
    elif template.sender.account_id != account.pk:
        errors.setdefault("sender", []).append("Unknown sender.")
    elif not template.sender.is_approved:
        errors.setdefault("sender", []).append(
            f"Sender {template.sender.name} is not approved yet: only approved senders can be used."
        )
    consent = template.consent_template
    if consent is not None and (consent.account_id != account.pk or consent.pk == template.pk):
        errors.setdefault("consent_template", []).append("Choose another template of this account.")
    if not template.alias:
        errors.setdefault("alias", []).append("Give the template a name or an alias.")


def _save_version(template: Template, acting_user) -> None:
    TemplateVersion.objects.create(
        account=template.account,
        template=template,
        version=template.version,
        body=template.body,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )


@dataclass
class SavedTemplate:
    template: Template
    warnings: list[Finding] = field(default_factory=list)


@transaction.atomic
def create_template(
    account,
    *,
    acting_user,
    name: str,
    body: str,
    sender: Sender | None,
    template_type: str,
    is_english: bool = True,
    alias: str = "",
    dlt_template_id: str = "",
    consent_template: Template | None = None,
) -> SavedTemplate:
    name = (name or "").strip()
    template = Template(
        account=account,
        name=name,
        alias=slugify((alias or "").strip() or name)[:100],
        body=normalize_newlines(body or ""),
        sender=sender,
        template_type=template_type,
        is_english=is_english,
        dlt_template_id=(dlt_template_id or "").strip(),
        consent_template=consent_template,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    warnings = _check_template(template)
    template.save()
    _save_version(template, acting_user)
    record(account, acting_user, "template.created", template, after=snapshot(template, TEMPLATE_FIELDS))
    return SavedTemplate(template, warnings)


@transaction.atomic
def update_template(template: Template, *, acting_user, **changes) -> SavedTemplate:
    """Edit a template. A content change (body, sender, type, language, consent) of a reviewed template sends it
    back to pending; a new body is kept as a new version."""
    template = Template.objects.select_for_update(of=("self",)).select_related("sender", "account").get(pk=template.pk)
    before = snapshot(template, TEMPLATE_FIELDS)
    old = {name: getattr(template, name) for name in TEMPLATE_CONTENT_FIELDS}
    for name, value in changes.items():
        if name == "body":
            value = normalize_newlines(value or "")
        elif name == "alias":
            value = slugify((value or "").strip() or changes.get("name") or template.name)[:100]
        elif isinstance(value, str) and name != "body":
            value = value.strip()
        setattr(template, name, value)
    content_changed = any(getattr(template, name) != old[name] for name in TEMPLATE_CONTENT_FIELDS)
    if content_changed and template.status != TemplateStatus.PENDING:
        template.status, template.reason = TemplateStatus.PENDING, ""
        template.reviewed_by, template.reviewed_at = None, None
    warnings = _check_template(template)
    body_changed = template.body != old["body"]
    if body_changed:
        template.version += 1
    template.save()
    if body_changed:
        _save_version(template, acting_user)
    record(
        template.account,
        acting_user,
        "template.updated",
        template,
        before=before,
        after=snapshot(template, TEMPLATE_FIELDS),
    )
    return SavedTemplate(template, warnings)


def _review_template(template: Template, *, acting_user, status: str, reason: str) -> Template:
    template = Template.objects.select_for_update().get(pk=template.pk)
    if template.status != TemplateStatus.PENDING:
        raise Conflict(f"Template “{template.name}” is {template.status}; only pending templates are reviewed.")
    if status == TemplateStatus.APPROVED and not (template.sender and template.sender.is_approved):
        raise Conflict(f"Approve the sender of “{template.name}” first.")
    before = snapshot(template, TEMPLATE_FIELDS)
    template.status, template.reason = status, reason
    template.reviewed_by, template.reviewed_at = acting_user, timezone.now()
    template.save()
    record(
        template.account,
        acting_user,
        f"template.{status}",
        template,
        before=before,
        after=snapshot(template, TEMPLATE_FIELDS),
    )
    decision = "approved" if status == TemplateStatus.APPROVED else f"rejected: {reason}"
    _notify_author(
        template,
        acting_user,
        f"Template “{template.name}” was {decision}",
        reverse("campaigns:template_detail", args=[template.uid]),
        "success" if status == TemplateStatus.APPROVED else "warning",
    )
    return template


@transaction.atomic
def approve_template(template: Template, *, acting_user, reason: str = "") -> Template:
    return _review_template(template, acting_user=acting_user, status=TemplateStatus.APPROVED, reason=reason.strip())


@transaction.atomic
def reject_template(template: Template, *, acting_user, reason: str) -> Template:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give the reason for the rejection: the author sees it."]})
    return _review_template(template, acting_user=acting_user, status=TemplateStatus.REJECTED, reason=reason)


@dataclass
class BulkResult:
    approved: list = field(default_factory=list)
    skipped: list[tuple[object, str]] = field(default_factory=list)


def bulk_approve(objects: Iterable[Sender | Template], *, acting_user) -> BulkResult:
    """Approve each pending sender or template; the ones that cannot be approved are reported, not fatal."""
    result = BulkResult()
    for obj in objects:
        approve = approve_sender if isinstance(obj, Sender) else approve_template
        try:
            result.approved.append(approve(obj, acting_user=acting_user))
        except Conflict as exc:
            result.skipped.append((obj, str(exc)))
    return result


@transaction.atomic
def delete_template(template: Template, *, acting_user) -> None:
    before = snapshot(template, TEMPLATE_FIELDS)
    try:
        with transaction.atomic():
            template.delete()
    except (ProtectedError, IntegrityError):
        raise Conflict(f"Template “{template.name}” is used by campaigns or messages.") from None
    record(template.account, acting_user, "template.deleted", template, before=before)


# --- blocked templates ---------------------------------------------------------------------------------------


EXACT_FLOAT_DIGITS = 15
IMPORT_BATCH = 500


def _clean_template_id(value) -> str:
    """A template id as text. Spreadsheets store long ids typed as numbers as floats, which keep only 15
    significant digits: such a value has lost digits and is refused (ValueError) rather than guessed."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value} is not a template id.")
        if abs(value) >= 10**EXACT_FLOAT_DIGITS:
            raise ValueError(
                "The spreadsheet stored this id as a number and lost digits: "
                "format the column as text and export again."
            )
        return str(int(value))
    text = "" if value is None else str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


@transaction.atomic
def block_template(account, *, acting_user, template_id, status: int = BlockedTemplateStatus.ACTIVE) -> BlockedTemplate:
    try:
        template_id = _clean_template_id(template_id)
    except ValueError as exc:
        raise ValidationError({"template_id": [str(exc)]}) from None
    if not template_id:
        raise ValidationError({"template_id": ["Enter a template id."]})
    if len(template_id) > 64:
        raise ValidationError({"template_id": ["A template id has at most 64 characters."]})
    if BlockedTemplate.objects.for_account(account).filter(template_id=template_id).exists():
        raise Conflict(f"Template id {template_id} is already in the blocked list.")
    blocked = BlockedTemplate.objects.create(account=account, template_id=template_id, status=status)
    record(
        account, acting_user, "blocked_template.created", blocked, after={"template_id": template_id, "status": status}
    )
    return blocked


@transaction.atomic
def set_blocked_status(blocked: BlockedTemplate, *, acting_user, status: int) -> BlockedTemplate:
    before = {"status": blocked.status}
    blocked.status = status
    blocked.save(update_fields=["status", "updated_at"])
    record(blocked.account, acting_user, "blocked_template.updated", blocked, before=before, after={"status": status})
    return blocked


@transaction.atomic
def unblock_template(blocked: BlockedTemplate, *, acting_user) -> None:
    before = {"template_id": blocked.template_id, "status": blocked.status}
    blocked.delete()
    record(blocked.account, acting_user, "blocked_template.deleted", blocked, before=before)


BLOCKED_TEMPLATES_CLEANUP = cleanup.CleanupKind(
    name="blocked_templates",
    model=BlockedTemplate,
    noun="blocked template ids",
    audit_prefix="blocked_template",
    after_change=invalidate_account,
)


def clean_blocked_templates(account, *, acting_user) -> CleanupBatch | None:
    """Remove every blocked template id of the account into a clean-up batch, restorable for 30 days (restoring
    skips ids blocked again meanwhile); None when there was none. Audited as `blocked_template.cleaned`."""
    return cleanup.clean(account, BLOCKED_TEMPLATES_CLEANUP, acting_user)


@dataclass
class ImportSummary:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "existing": self.existing,
            "errors": [{"row": row, "message": message} for row, message in self.errors],
        }


@transaction.atomic
def import_blocked_templates(account, *, acting_user, rows: Iterable[tuple[int, object]]) -> ImportSummary:
    """Block every template id of (row number, id) pairs; a bad row is reported, never fatal."""
    summary = ImportSummary()
    wanted: dict[str, int] = {}
    for number, value in rows:
        try:
            template_id = _clean_template_id(value)
        except ValueError as exc:
            summary.errors.append((number, str(exc)))
            continue
        if not template_id:
            continue
        if len(template_id) > 64:
            summary.errors.append((number, "A template id has at most 64 characters."))
            continue
        wanted.setdefault(template_id, number)
    existing: set[str] = set()
    ids = list(wanted)
    for start in range(0, len(ids), IMPORT_BATCH):
        blocked = BlockedTemplate.objects.for_account(account).filter(template_id__in=ids[start : start + IMPORT_BATCH])
        existing.update(blocked.values_list("template_id", flat=True))
    summary.existing = len(existing)
    new = [BlockedTemplate(account=account, template_id=tid) for tid in wanted if tid not in existing]
    BlockedTemplate.objects.bulk_create(new, batch_size=1000)
    summary.created = len(new)
    transaction.on_commit(lambda: invalidate_account(account.pk))
    record(account, acting_user, "blocked_template.imported", account, after=summary.as_dict())
    return summary


@transaction.atomic
def import_dlt_template_ids(account, *, acting_user, rows: Iterable[tuple[int, str, str]]) -> ImportSummary:
    """Set DLT template ids from (row number, template reference, DLT id); the reference is an alias, a name or
    a public id. `created` counts the templates updated."""
    summary = ImportSummary()
    templates = list(Template.objects.for_account(account))
    index: dict[str, Template] = {}
    for template in templates:
        index.setdefault(template.name.casefold(), template)
        index[template.alias.casefold()] = template
        index[str(template.uid)] = template
    for number, reference, raw_id in rows:
        template = index.get(str(reference or "").strip().casefold())
        try:
            dlt_id = _clean_template_id(raw_id)
        except ValueError as exc:
            summary.errors.append((number, str(exc)))
            continue
        if template is None:
            summary.errors.append((number, f"No template named “{reference}”."))
        elif not dlt_id.isdigit():
            summary.errors.append((number, f"“{dlt_id}” is not a DLT template id (digits only)."))
        elif template.dlt_template_id == dlt_id:
            summary.existing += 1
        else:
            before = {"dlt_template_id": template.dlt_template_id}
            template.dlt_template_id = dlt_id
            template.save(update_fields=["dlt_template_id", "updated_at"])
            record(
                account,
                acting_user,
                "template.dlt_id_imported",
                template,
                before=before,
                after={"dlt_template_id": dlt_id},
            )
            summary.created += 1
    return summary
