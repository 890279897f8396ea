"""A patient payment receipt printed as PDF (the front desk hands it over or e-mails it).

The service gathers what the receipt says into a :class:`Receipt` of plain values — the
practice, the receipt number (the payment's id), the client, the method with a reference that
never holds a full card number, the amount, what it paid and the balance left — and this
adapter lays it out: one HTML page (``adapters/templates/receipt.html``) rendered by
WeasyPrint, small enough for a receipt printer or a Letter page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import jinja2

from revcycle.money import format_cents

__all__ = ["Receipt", "ReceiptLine", "render_receipt_html", "render_receipt_pdf"]

_TEMPLATES = "templates"


@dataclass(frozen=True)
class ReceiptLine:
    """One thing the payment paid: a charge of a visit, or the client's credit."""

    service_on: date | None
    description: str
    amount_cents: int


@dataclass(frozen=True)
class Receipt:
    practice_name: str
    practice_address: tuple[str, ...]
    practice_phone: str
    number: str
    received_on: date
    client_name: str
    method: str  # "Cash", "Check no. 1042", "Card ending 4242"
    amount_cents: int
    lines: tuple[ReceiptLine, ...]
    balance_due_cents: int  # what the client still owes after this payment
    credit_cents: int  # the client's credit after this payment (>= 0)
    received_by: str = ""
    voided: bool = False
    void_reason: str = ""


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("revcycle.adapters") / _TEMPLATES
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = format_cents
    return environment


def render_receipt_html(receipt: Receipt) -> str:
    """The receipt as one HTML document (also handy to look at)."""
    return _environment().get_template("receipt.html").render(r=receipt)


def render_receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as a one-page PDF."""
    import weasyprint  # deferred: loading Pango costs start-up time every command would pay

    pdf: bytes = weasyprint.HTML(string=render_receipt_html(receipt)).write_pdf()
    return pdf
