"""What the importer's child processes (the spreadsheet parser, the phone workers) share with it: length-prefixed
pickled frames on their pipes, and a quick exit. Django-free, so a child imports it without Django."""

import os
import struct
import sys

__all__ = ["FRAME_HEADER", "exit_now"]

FRAME_HEADER = struct.Struct("!I")  # the length of the pickled body that follows


def exit_now(status: int) -> None:
    """Exit once everything is flushed, without the interpreter's teardown: freeing a parsed workbook's millions
    of objects one by one takes a noticeable time that the importer would wait for."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
