"""`mobile_secure` accounts see phone numbers with their last 4 digits masked, everywhere numbers are shown."""

import re

MASK = "XXXX"
PHONE_IN_TEXT = re.compile(r"\+?\d[\d ]{6,}\d")


def mask_msisdn(number, account) -> str:
    """The number as stored, or with its last 4 digits masked for accounts with mobile_secure."""
    text = str(number or "")
    if account is not None and account.mobile_secure and len(text) > 4:
        return text[:-4] + MASK
    return text


def mask_numbers_in_text(text, account) -> str:
    """Masks every phone-number-looking run of digits inside free text (audit entries, object names)."""
    text = str(text if text is not None else "")
    if account is None or not account.mobile_secure:
        return text
    return PHONE_IN_TEXT.sub(lambda match: match.group(0)[:-4] + MASK, text)
