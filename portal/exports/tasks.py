"""Celery tasks of exports: thin wrappers taking ids, safe to run twice."""

from celery import shared_task

from portal.exports import services


@shared_task(name=services.RUN_TASK, acks_late=True, ignore_result=True)
def run_export(export_id: int) -> str:
    """Write one queued export's file; a running, finished or missing export is left alone."""
    return services.run_export(export_id)


@shared_task(name="portal.purge_exports", ignore_result=True)
def purge_exports() -> int:
    """Beat: delete the exports (and files) past EXPORT_KEEP_DAYS; mark failed those whose worker stopped."""
    return services.purge_expired()
