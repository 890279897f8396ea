"""The claim scrubber: checks a claim before it is sent, the way a clearinghouse and a payer would.

Pure functions over a :class:`ClaimFacts` and a :class:`ScrubContext` (the code sets, passed
in). Each edit returns a list of :class:`~revcycle.domain.problems.Problem`; :func:`scrub`
runs every edit of :data:`EDITS` and returns the problems and the edits that ran. Errors keep
a claim out of "ready"; warnings may be overridden with a reason (the claims service records
the override); info is kept for the record.

Problem codes are ``scrub.<edit id>.<what>`` (``scrub.timely_filing.passed``); ``where``
names the field or line (``billing provider NPI``, ``line 2, SV1 procedure``).
"""

from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import (
    Address,
    Authorization,
    BillingProvider,
    ClaimFacts,
    ClaimLine,
    Coverage,
    Payer,
    Person,
    Provider,
    Supervision,
)
from revcycle.domain.scrubber.filing import timely_filing_deadline
from revcycle.domain.scrubber.icd10 import (
    Icd10Release,
    Icd10Releases,
    Icd10ReleaseSet,
    choose_release,
    fiscal_year_window,
    normalize_icd10,
)
from revcycle.domain.scrubber.ncci import NCCI_ASSOCIATED_MODIFIERS, NcciPair, NcciTable
from revcycle.domain.scrubber.procedures import ADD_ON_PRIMARIES, TIME_BANDS
from revcycle.domain.scrubber.registry import EDITS, EDITS_BY_ID, Edit, ScrubResult, scrub
from revcycle.domain.scrubber.supervision import SUPERVISION_RULES, supervision_problems

__all__ = [
    "ADD_ON_PRIMARIES",
    "EDITS",
    "EDITS_BY_ID",
    "NCCI_ASSOCIATED_MODIFIERS",
    "SUPERVISION_RULES",
    "TIME_BANDS",
    "Address",
    "Authorization",
    "BillingProvider",
    "ClaimFacts",
    "ClaimLine",
    "Coverage",
    "Edit",
    "Icd10Release",
    "Icd10ReleaseSet",
    "Icd10Releases",
    "NcciPair",
    "NcciTable",
    "Payer",
    "Person",
    "Provider",
    "ScrubContext",
    "ScrubResult",
    "Supervision",
    "choose_release",
    "fiscal_year_window",
    "normalize_icd10",
    "scrub",
    "supervision_problems",
    "timely_filing_deadline",
]
