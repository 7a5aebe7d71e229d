"""An export's file as an HTTP download, for the Exports page and the API."""

from django.http import FileResponse, Http404

from portal.exports.services import open_file
from portal.models import Export

__all__ = ["download_response"]


def download_response(export: Export, actor) -> FileResponse:
    """The finished export's file as an attachment, streamed from disk (audited). ServiceError when the export
    is not done; Http404 when its file is gone."""
    try:
        handle = open_file(export, actor)
    except FileNotFoundError:
        raise Http404("This export's file is gone.") from None
    return FileResponse(handle, as_attachment=True, filename=export.file_name)
