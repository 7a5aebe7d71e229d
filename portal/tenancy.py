"""Account scoping: every data model inherits AccountScopedModel and is read through `for_account()`."""

import uuid

from django.db import models


class AccountQuerySet(models.QuerySet):
    def for_account(self, account):
        return self.filter(account=account)


class AccountScopedModel(models.Model):
    """Base of every tenant-owned model: the owning account, an opaque public id and timestamps."""

    account = models.ForeignKey("portal.Account", on_delete=models.CASCADE, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="public id")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        abstract = True
