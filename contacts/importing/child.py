"""The sandboxed spreadsheet parser: `python -m contacts.importing.child PATH CHUNK_ROWS MEMORY_MB CPU_SECONDS COLUMNS`.

It limits its own address space and CPU time, then writes length-prefixed pickled frames to stdout:
`("rows", sheet, [(number, values, over_limit), ...])`, `("error", code, message)` or `("done",)`; rows keep at most
COLUMNS cells (`columns.fit`). It never imports Django.
"""

import gc
import pickle
import resource
import sys

from contacts.importing.errors import ImportFileError
from contacts.importing.frames import FRAME_HEADER, exit_now
from contacts.importing.readers import spreadsheet_chunks


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _send(out, message: tuple) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(FRAME_HEADER.pack(len(body)))
    out.write(body)


def main(argv: list[str]) -> int:
    path, chunk_rows, memory_mb, cpu_seconds, max_columns = argv[0], *map(int, argv[1:5])
    _limit(memory_mb, cpu_seconds)
    gc.disable()  # rows are acyclic and short-lived; see engine.cyclic_gc_paused
    out = sys.stdout.buffer
    try:
        for chunk in spreadsheet_chunks(path, chunk_rows=chunk_rows, max_columns=max_columns):
            sheet = chunk[0].sheet
            _send(out, ("rows", sheet, [row[1:] for row in chunk]))
    except ImportFileError as exc:
        _send(out, ("error", exc.code, exc.message))
    except MemoryError:
        _send(
            out,
            (
                "error",
                "too_large_to_read",
                f"The spreadsheet needs more than {memory_mb} MB of memory to read. Split it or save it as CSV.",
            ),
        )
    else:
        _send(out, ("done",))
    out.flush()
    return 0


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))
