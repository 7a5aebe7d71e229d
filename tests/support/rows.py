"""Snapshots of the database rows an account owns (and the platform's), to prove a request left them alone."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from portal.models import Account, Membership
from tests.support.api_surface import has_account

PROJECT_APPS = ("portal", "contacts", "campaigns")


def account_path(model) -> str | None:
    """How the model's rows reach their account: `account`, `<fk>__account`, or None (a platform row)."""
    if has_account(model):
        return "account"
    for f in model._meta.concrete_fields:
        if isinstance(f, models.ForeignKey) and has_account(f.related_model):
            return f"{f.name}__account"
    return None


def project_models() -> list:
    return [model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS and model is not Account]


def _scope(model, accounts) -> Q | None:
    path = account_path(model)
    if path is None:
        return None
    scope = Q(**{f"{path}__in": accounts})
    if path == "account" and model._meta.get_field("account").null:
        scope |= Q(account__isnull=True)  # platform rows of an account-scoped table (the platform price list)
    return scope


def snapshot(accounts, *, fields_of=None, platform: bool = True) -> dict:
    """{model label: {pk: {column: value}}} of the accounts' rows, the Account rows themselves and (with
    `platform`) every row that belongs to no account; `fields_of(model)` limits the columns (default: all)."""
    result = {}
    for model in [Account, *project_models(), get_user_model()]:
        if model is Account:
            queryset = Account.objects.filter(pk__in=[account.pk for account in accounts])
        elif model is get_user_model():
            queryset = model.objects.filter(pk__in=Membership.objects.filter(account__in=accounts).values("user"))
        else:
            scope = _scope(model, accounts)
            if scope is None and not platform:
                continue
            queryset = model.objects.all() if scope is None else model.objects.filter(scope)
        columns = [f.attname for f in model._meta.concrete_fields]
        if fields_of is not None:
            columns = [model._meta.pk.attname, *fields_of(model)]
        result[model._meta.label] = {row[model._meta.pk.attname]: row for row in queryset.values(*columns)}
    return result


def differences(before: dict, after: dict) -> list[str]:
    """Readable list of rows created, deleted or changed between two snapshots."""
    found = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {}), after.get(label, {})
        found += [f"{label} #{pk} created" for pk in sorted(set(new) - set(old))]
        found += [f"{label} #{pk} deleted" for pk in sorted(set(old) - set(new))]
        for pk in sorted(set(old) & set(new)):
            changed = sorted(name for name in old[pk] if old[pk][name] != new[pk].get(name))
            if changed:
                found.append(f"{label} #{pk} changed: {', '.join(changed)}")
    return found
