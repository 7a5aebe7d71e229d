"""Restorable clean-ups in the browser: the recent batches shown on a list page, and restoring one after a
confirmation (an HTMX fragment in place of the button, or a page without JavaScript)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from portal import cleanup, htmx
from portal.models import Account
from portal.roles import WRITE
from portal.views import AccountViewMixin

RECENT_BATCHES = 10


def recent_cleanups(account: Account, kind: cleanup.CleanupKind, *, restore_url: str, can_restore: bool) -> dict:
    """Context of `includes/cleanup_batches.html`: the latest batches of `kind`, restored through the URL name
    `restore_url` (a `CleanupRestoreView`)."""
    return {
        "cleanup_batches": list(cleanup.batches_of(account, kind)[:RECENT_BATCHES]),
        "cleanup_noun": kind.noun,
        "cleanup_restore_url": restore_url,
        "can_restore": can_restore,
    }


def restore_message(kind: cleanup.CleanupKind, result: cleanup.RestoreResult) -> str:
    text = f"Restored {result.restored} {kind.noun}."
    if result.skipped:
        text += f" {result.skipped} skipped: created again since the clean-up."
    return text


class CleanupRestoreView(AccountViewMixin, View):
    """GET: the confirmation; POST: the restore, then back to the list page `list_url` (a URL name)."""

    kind_name = ""
    list_url = ""
    required_capability = WRITE
    template_name = "portal/cleanupbatch_restore.html"

    def get_batch(self, uid):
        kind = cleanup.kind_named(self.kind_name)
        return kind, get_object_or_404(cleanup.batches_of(self.account, kind), uid=uid)

    def get(self, request, uid):
        kind, batch = self.get_batch(uid)
        context = {"batch": batch, "noun": kind.noun, "list_url": reverse(self.list_url)}
        return htmx.render(request, self.template_name, context, partial="restore-confirm")

    def post(self, request, uid):
        kind, batch = self.get_batch(uid)
        try:
            result = cleanup.restore(batch, request.user)
        except cleanup.NotRestorable as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, restore_message(kind, result))
        return redirect(self.list_url)
