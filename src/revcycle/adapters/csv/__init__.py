"""CSV imports: the SimplePractice reports, AR portfolio exports, and any CSV through a mapping.

``read_csv`` opens a file (encoding, delimiter, header); ``detect_format`` names the report;
``parse`` (or ``apply_mapping``) yields typed rows and rejected rows, lazily. Nothing here
touches the database: the imports service stages and commits what these yield.
"""

from .formats import (
    Column,
    ImportFormat,
    ParsedRow,
    RejectedRow,
    columns_of,
    detect_format,
    parse,
    parse_columns,
)
from .mapping import ColumnMapping, apply_mapping, guess_mapping
from .reading import CsvInputError, CsvTable, read_csv
from .rows import (
    AppointmentRow,
    ArClaimRow,
    AttendanceRow,
    AttendanceStatus,
    ClientDemographicRow,
    ClientDetailRow,
    ClientPaymentStatus,
    FiledClaimRow,
    InsurancePaymentStatus,
    NoteStatus,
    PayerRef,
)

__all__ = [
    "AppointmentRow",
    "ArClaimRow",
    "AttendanceRow",
    "AttendanceStatus",
    "ClientDemographicRow",
    "ClientDetailRow",
    "ClientPaymentStatus",
    "Column",
    "ColumnMapping",
    "CsvInputError",
    "CsvTable",
    "FiledClaimRow",
    "ImportFormat",
    "InsurancePaymentStatus",
    "NoteStatus",
    "ParsedRow",
    "PayerRef",
    "RejectedRow",
    "apply_mapping",
    "columns_of",
    "detect_format",
    "guess_mapping",
    "parse",
    "parse_columns",
    "read_csv",
]
