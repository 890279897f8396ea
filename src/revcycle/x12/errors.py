"""The one error every X12 codec raises: it says where in the file the problem is."""

from __future__ import annotations


class X12Error(ValueError):
    """Bad X12 input or output, naming where: the 1-based segment position in the file, the
    segment id and the element (``"CLM02"``, or ``"SV101-2"`` for a component).

    ``str(error)`` reads ``segment 14 (CLM), CLM02: claim total 150.00 differs from the lines' 140.00``.
    """

    def __init__(
        self, message: str, *, position: int | None = None, segment_id: str = "", element: str = ""
    ) -> None:
        self.message = message
        self.position = position
        self.segment_id = segment_id
        self.element = element
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.position:
            where.append(f"segment {self.position}" + (f" ({self.segment_id})" if self.segment_id else ""))
        elif self.segment_id:
            where.append(self.segment_id)
        if self.element:
            where.append(self.element)
        return f"{', '.join(where)}: {self.message}" if where else self.message
