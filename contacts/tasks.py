"""Background work of the contacts app: imports and the sweep that resumes those whose worker died."""

from celery import shared_task

from contacts import unsubscriber_import  # noqa: F401  (registers the unsubscribers import target)
from contacts.importing.engine import run_import
from contacts.importing.recovery import RUN_TASK, claim_import, requeue_stalled_imports
from contacts.models import Import


@shared_task(name=RUN_TASK, acks_late=True)
def run_import_task(import_id: int) -> str:
    """Run one queued import to its end. Only the delivery that claims it runs it: a second delivery of the same
    task, or one for a finished or missing import, is skipped."""
    if not claim_import(import_id):
        return "skipped"
    job = Import.objects.select_related("account").filter(pk=import_id).first()
    if job is None:
        return "skipped"
    return run_import(job).state


@shared_task(name="contacts.requeue_stalled_imports", ignore_result=True)
def requeue_stalled_imports_task() -> dict[str, int]:
    """Beat: imports whose worker died go back to the queue, or fail after IMPORT_MAX_ATTEMPTS runs."""
    return requeue_stalled_imports()
