"""An appeal letter printed as PDF (mailed or faxed to the payer, or uploaded to its portal).

The service renders the practice's template (see :mod:`revcycle.domain.appeals`) into a
subject and a body of plain text; this adapter lays it out on Letter paper: the practice's
letterhead, the date, the subject line, and the body with its paragraphs and line breaks kept
(``adapters/templates/appeal_letter.html``), rendered by WeasyPrint. The text is escaped: a
template is the practice's words, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import jinja2

__all__ = ["Letter", "render_letter_html", "render_letter_pdf"]


@dataclass(frozen=True)
class Letter:
    practice_name: str
    practice_address: tuple[str, ...]
    practice_phone: str
    dated: str  # already formatted: the letter's date
    subject: str
    body: str  # plain text; blank lines separate paragraphs

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip("\n") for part in self.body.replace("\r\n", "\n").split("\n\n") if part.strip()]


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("revcycle.adapters") / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_letter_html(letter: Letter) -> str:
    """The letter as one HTML document (the page's preview shows the same)."""
    return _environment().get_template("appeal_letter.html").render(letter=letter)


def render_letter_pdf(letter: Letter) -> bytes:
    """The letter as a PDF, as many Letter pages as it needs."""
    import weasyprint  # deferred: loading Pango costs start-up time every command would pay

    pdf: bytes = weasyprint.HTML(string=render_letter_html(letter)).write_pdf()
    return pdf
