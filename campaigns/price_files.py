"""Price lists as xlsx: export what applies to an account; platform staff import the platform list."""

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from openpyxl import Workbook, load_workbook

from campaigns.models import Price

HEADER = ["iso", "service", "price", "currency", "status"]


def export_prices(prices) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Pricing")
    sheet.append(HEADER)
    for price in prices:
        sheet.append([price.country, price.service, float(price.price), price.currency, price.status])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class PriceImport:
    saved: int = 0
    errors: list[str] = field(default_factory=list)


def _row_price(values: dict) -> Price | str:
    country = str(values.get("iso") or "").strip().upper()
    service = str(values.get("service") or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        return "iso must be a 2-letter country code"
    if not 2 <= len(service) <= 3:
        return "service must be a product code such as ENT or MKT"
    try:
        amount = Decimal(str(values.get("price")).strip())
    except (InvalidOperation, AttributeError):
        return "price is not a number"
    if amount < 0:
        return "price cannot be negative"
    status = values.get("status")
    return Price(
        country=country,
        service=service,
        price=amount,
        currency=str(values.get("currency") or "EUR").strip().upper()[:3],
        status=0 if str(status).strip() in {"0", "0.0", "inactive"} else 1,
    )


def import_prices(upload) -> PriceImport:
    """Upsert platform prices from an xlsx with the export's columns; a bad row is reported, never fatal."""
    result = PriceImport()
    workbook = load_workbook(upload, read_only=True, data_only=True)
    rows = workbook.active.iter_rows(values_only=True)
    header = [str(cell or "").strip().lower() for cell in next(rows, [])]
    missing = [name for name in ("iso", "service", "price") if name not in header]
    if missing:
        result.errors.append(f"Row 1: missing column(s) {', '.join(missing)}")
        return result
    prices = []
    for number, row in enumerate(rows, start=2):
        if not any(cell not in (None, "") for cell in row):
            continue
        outcome = _row_price(dict(zip(header, row, strict=False)))
        if isinstance(outcome, str):
            result.errors.append(f"Row {number}: {outcome}")
        else:
            prices.append(outcome)
    with transaction.atomic():
        for price in prices:
            Price.objects.update_or_create(
                account=None,
                country=price.country,
                service=price.service,
                defaults={"price": price.price, "currency": price.currency, "status": price.status},
            )
    result.saved = len(prices)
    return result
