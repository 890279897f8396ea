"""What the edits may consult besides the claim: the code sets, passed in.

The scrubber reads no files and no database. The caller (the claims service) builds a
:class:`ScrubContext` from the shipped code sets and the releases an admin loaded
(``revcycle.services.codesets.scrub_context_for``) or, in tests, from a handful of codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from revcycle.domain.scrubber.icd10 import Icd10Releases
from revcycle.domain.scrubber.ncci import NcciTable

__all__ = ["ScrubContext"]


@dataclass(frozen=True)
class ScrubContext:
    """Reference data for the edits.

    ``icd10`` answers which ICD-10-CM release is in force on a date of service (loaded lazily
    by the adapter); ``place_of_service_codes`` is the CMS place-of-service code set;
    ``ncci_tables`` are the NCCI PTP tables loaded (for a claim, only the pairs among its
    codes); empty when none is loaded, which the NCCI edit notes.
    """

    icd10: Icd10Releases
    place_of_service_codes: frozenset[str]
    ncci_tables: tuple[NcciTable, ...] = ()
