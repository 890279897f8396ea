"""The edits, in the order they run, and :func:`scrub`, which runs them.

Each edit has a stable id (kept with a claim's scrub so the claim can show which edits ran,
and used to override a warning) and a title for people. An edit is a pure function of the
claim's facts and the reference data; it returns every problem it finds. ``scrub`` runs them
all and returns every problem and the edits that ran; the caller decides: any error keeps the
claim out of "ready", a warning may be overridden with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.diagnoses import check_diagnosis_pointers, check_icd10_codes
from revcycle.domain.scrubber.eligibility import check_coverage_active, check_prior_authorization
from revcycle.domain.scrubber.facts import ClaimFacts
from revcycle.domain.scrubber.fields import check_required_fields
from revcycle.domain.scrubber.filing import check_timely_filing
from revcycle.domain.scrubber.identifiers import check_npis, check_place_of_service
from revcycle.domain.scrubber.ncci import check_ncci_ptp
from revcycle.domain.scrubber.procedures import check_add_on_primaries, check_telehealth, check_time_bands
from revcycle.domain.scrubber.supervision import check_supervision

__all__ = ["EDITS", "EDITS_BY_ID", "Check", "Edit", "ScrubResult", "scrub"]

Check = Callable[[ClaimFacts, ScrubContext], list[Problem]]


@dataclass(frozen=True)
class Edit:
    """One scrubber edit: a stable id, a title, and the check itself."""

    id: str
    title: str
    check: Check


EDITS: tuple[Edit, ...] = (
    Edit("required_fields", "Required 837P fields present", check_required_fields),
    Edit("npi_check_digit", "NPIs pass the check digit", check_npis),
    Edit("place_of_service", "Place of service is a CMS code", check_place_of_service),
    Edit("icd10_valid", "Diagnoses valid and billable on the date of service", check_icd10_codes),
    Edit("diagnosis_pointers", "Every procedure points at a diagnosis", check_diagnosis_pointers),
    Edit("time_bands", "Time-based psychotherapy codes fit their minutes", check_time_bands),
    Edit("add_on_primary", "Add-on codes billed with their primary", check_add_on_primaries),
    Edit("telehealth", "Telehealth modifiers agree with place of service", check_telehealth),
    Edit("ncci_ptp", "No NCCI procedure-to-procedure pair billed together", check_ncci_ptp),
    Edit("supervision", "Supervised billing allowed and under a proper supervisor", check_supervision),
    Edit("prior_authorization", "Prior authorization on file with visits left", check_prior_authorization),
    Edit("coverage_active", "Coverage active on the date of service", check_coverage_active),
    Edit("timely_filing", "Timely filing deadline not passed", check_timely_filing),
)
EDITS_BY_ID: Mapping[str, Edit] = MappingProxyType({edit.id: edit for edit in EDITS})


@dataclass(frozen=True)
class ScrubResult:
    """Every problem found, in edit order, and the edits that ran."""

    problems: tuple[Problem, ...]
    edits_ran: tuple[Edit, ...]

    @property
    def edit_ids(self) -> tuple[str, ...]:
        return tuple(edit.id for edit in self.edits_ran)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return self._of(Severity.WARNING)

    @property
    def has_errors(self) -> bool:
        """True when the claim may not be marked ready."""
        return bool(self.errors)

    def _of(self, severity: Severity) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity is severity)


def scrub(facts: ClaimFacts, context: ScrubContext, edits: Sequence[Edit] = EDITS) -> ScrubResult:
    """Run every edit on the claim; nothing is refused here, the caller decides."""
    problems = [problem for edit in edits for problem in edit.check(facts, context)]
    return ScrubResult(tuple(problems), tuple(edits))
