"""Delivery receipts as SMSCs send them in deliver_sm."""


def id_variants(upstream_id: str) -> tuple[str, ...]:
    """The same upstream id as SMSCs may print it: as given, lower-case, hex→decimal, decimal→hex (submit_sm_resp
    and the receipt text often disagree on the base: a known Kannel/Jasmin interop problem)."""
    given = (upstream_id or "").strip()
    variants = [given, given.lower()]
    if given.isdigit():
        variants.append(format(int(given), "x"))
    try:
        variants.append(str(int(given, 16)))
    except ValueError:
        pass
    return tuple(dict.fromkeys(v for v in variants if v))
