"""Sizes in messages, in megabytes as people read them: a size over a limit never reads as equal to it."""

__all__ = ["MB", "over_limit"]

MB = 1024 * 1024


def _tenths(tenths: int) -> str:
    whole, tenth = divmod(tenths, 10)
    return f"{whole:,}" if tenth == 0 else f"{whole:,}.{tenth}"


def over_limit(size: int, limit: int) -> tuple[str, str]:
    """(size, limit) in MB for "the file is X MB; the limit is Y MB": the size rounded up to 0.1 MB and shown with
    its tenth, the limit rounded down (without ".0"), so 100 MB + 1 byte reads "100.1" against "100"."""
    size_tenths = -(-size * 10 // MB)
    whole, tenth = divmod(size_tenths, 10)
    return f"{whole:,}.{tenth}", _tenths(limit * 10 // MB)
