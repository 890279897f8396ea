"""Pure X12 5010 codecs: no database, no web. The core is the tokenizer and the envelopes;
each transaction set (837P, 999, 277CA, 276/277, 270/271, 835) reads and writes segment bodies."""

from revcycle.x12.envelope import (
    FunctionalGroup,
    Interchange,
    Transaction,
    check_isa13,
    format_control_number,
    read_interchanges,
    write_interchange,
    write_interchanges,
)
from revcycle.x12.errors import X12Error
from revcycle.x12.segments import Delimiters, Repeated, Segment, composite, repeated, seg, tokenize

__all__ = [
    "Delimiters",
    "FunctionalGroup",
    "Interchange",
    "Repeated",
    "Segment",
    "Transaction",
    "X12Error",
    "check_isa13",
    "composite",
    "format_control_number",
    "read_interchanges",
    "repeated",
    "seg",
    "tokenize",
    "write_interchange",
    "write_interchanges",
]
