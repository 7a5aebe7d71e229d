"""Time-ordered public ids for bulk writes."""

import time
import uuid

from portal.ids import time_ordered_uids


def test_bulk_uids_are_time_ordered_version_7():
    before = time.time_ns() // 1_000_000
    uids = time_ordered_uids(500)
    after = time.time_ns() // 1_000_000
    assert len(set(uids)) == 500
    parsed = [uuid.UUID(uid) for uid in uids]
    assert all(value.version == 7 and value.variant == uuid.RFC_4122 for value in parsed)
    assert all(before <= value.int >> 80 <= after for value in parsed)
    time.sleep(0.002)
    later = uuid.UUID(time_ordered_uids(1)[0])
    assert later.int > max(value.int for value in parsed)
