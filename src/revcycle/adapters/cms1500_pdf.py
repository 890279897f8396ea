"""CMS-1500 (02/12) paper claims printed as PDF.

The boxes' contents come from :func:`revcycle.domain.cms1500.cms1500_form`; this adapter only
lays them out: an HTML page per form page, each box placed where it sits on the printed
form (US Letter, the form's grid of 10 characters and 6 lines to the inch), its number and
caption in the form's red ink and the values in black, rendered by WeasyPrint. Several
claims make one PDF (a day's mail to the payers), each claim starting on a new page.

The template and its stylesheet live in ``adapters/templates/`` as package data.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources

import jinja2

from revcycle.domain.cms1500 import Cms1500Form

__all__ = ["render_cms1500_html", "render_cms1500_pdf"]

_TEMPLATES = "templates"


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("revcycle.adapters") / _TEMPLATES
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _stylesheet() -> str:
    return (resources.files("revcycle.adapters") / _TEMPLATES / "cms1500.css").read_text(encoding="utf-8")


def render_cms1500_html(forms: Sequence[Cms1500Form]) -> str:
    """The forms as one HTML document, a page per form page (also handy to look at)."""
    if not forms:
        raise ValueError("no claim to print")
    return _environment().get_template("cms1500.html").render(claims=list(forms), css=_stylesheet())


def render_cms1500_pdf(forms: Sequence[Cms1500Form]) -> bytes:
    """The forms as one PDF, each claim's pages in order."""
    import weasyprint  # deferred: loading Pango costs start-up time every command would pay

    pdf: bytes = weasyprint.HTML(string=render_cms1500_html(forms)).write_pdf()
    return pdf
