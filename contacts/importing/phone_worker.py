"""A phone-normalising worker process: `python -m contacts.importing.phone_worker COUNTRY`.

It reads length-prefixed pickled lists of values from stdin and answers each with a pickled list of
`(e164, country, number_type, valid, reason)` tuples from `contacts.phones.normalize_many`. Started with
`subprocess` (not multiprocessing) so that it works from any parent, a daemonic Celery child included.
It never imports Django.
"""

import gc
import pickle
import sys

from contacts.importing.frames import FRAME_HEADER, exit_now
from contacts.phones import normalize_many


def _read(stream, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def main(country: str) -> int:
    gc.disable()  # short-lived acyclic results only; see engine.cyclic_gc_paused
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (header := _read(source, FRAME_HEADER.size)) is not None:
        body = _read(source, FRAME_HEADER.unpack(header)[0])
        if body is None:
            break
        results = normalize_many(pickle.loads(body), country)
        answer = pickle.dumps([tuple(result) for result in results], protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(FRAME_HEADER.pack(len(answer)))
        sink.write(answer)
        sink.flush()
    return 0


if __name__ == "__main__":
    exit_now(main(sys.argv[1] if len(sys.argv) > 1 else ""))
