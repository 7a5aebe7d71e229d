"""Background work of the contacts app."""

from celery import shared_task

from contacts import unsubscriber_import  # noqa: F401  (registers the unsubscribers import target)


@shared_task(name="contacts.run_import", acks_late=True)
def run_import_task(import_id: int) -> str:
    """Run one queued import to its end; a finished or missing import is left alone (idempotent)."""
    from contacts.importing.engine import run_import
    from contacts.models import Import, ImportState

    job = Import.objects.select_related("account").filter(pk=import_id).first()
    if job is None or job.state != ImportState.QUEUED:
        return "skipped"
    return run_import(job).state


@shared_task(name="contacts.fail_stale_imports")
def fail_stale_imports_task() -> int:
    from contacts.services_imports import fail_stale_imports

    return fail_stale_imports()
