"""A report's table as a download (CSV, xlsx or PDF), for pages and the API alike."""

from __future__ import annotations

from fastapi.responses import Response

from revcycle.adapters.report_export import FORMATS, ReportTable, media_type, render
from revcycle.errors import InvalidInput

__all__ = ["report_download"]


def report_download(table: ReportTable, fmt: str) -> Response:
    """The table as an attachment named after its title and date; InvalidInput for a format
    that is not csv, xlsx or pdf."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    return Response(
        render(table, fmt),
        media_type=media_type(fmt),
        headers={"Content-Disposition": f'attachment; filename="{table.filename_stem}.{fmt}"'},
    )
