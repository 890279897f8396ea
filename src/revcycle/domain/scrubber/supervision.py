"""Supervised billing: a clinician the payer does not credential, billed under a supervisor.

A pre-licensed clinician (an associate counselor, a psychology resident) works under a
licensed supervisor. Payers differ in whether such a clinician's sessions may be billed at
all, and how; the practice records each payer's rule (``PracticePayer.supervised_billing``):

- ``not_allowed``: the payer pays only clinicians it credentials. A claim for a clinician it
  does not credential cannot be billed (an error the practice must settle: credential the
  clinician, or do not bill the payer).
- ``incident_to`` (Medicare-style): billed under the supervisor, who is then the rendering
  provider, for a service given in the office (place of service 11) under the supervisor's
  direct supervision. A telehealth place of service (02, 10) under incident-to is refused
  here: CMS's temporary allowance of virtual direct supervision is not relied on, and a
  practice that does may bill such sessions by hand after checking the payer's current rule.
- ``supervisor``: commercial plans that credential the supervisor and accept the
  supervisee's services billed under the supervisor's NPI, wherever given.

The rules checked when a claim bills under a supervisor, each an error: a supervisor is on
file; it is not the clinician; it is active; it is not itself supervised; it is enrolled and
in network with the payer on the date of service; incident-to is in the office; and the
claim's basis matches the payer's setting. :data:`SUPERVISION_RULES` names them for the
compliance report, which shows each rule's result per claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from revcycle.domain.problems import Problem
from revcycle.domain.scrubber.facts import ClaimFacts, Provider, Supervision

if TYPE_CHECKING:
    from revcycle.domain.scrubber.context import ScrubContext

__all__ = [
    "BASES",
    "INCIDENT_TO_PLACES_OF_SERVICE",
    "SETTINGS",
    "SUPERVISION_RULES",
    "check_supervision",
    "supervision_problems",
]

SETTINGS = ("not_allowed", "incident_to", "supervisor")
BASES = ("direct", "incident_to", "supervisor")
INCIDENT_TO_PLACES_OF_SERVICE = frozenset({"11"})

# rule id (the problem code's last part) -> what the rule asks, for the compliance report
SUPERVISION_RULES: tuple[tuple[str, str], ...] = (
    ("allowed", "The payer allows supervised billing"),
    ("basis_matches", "Billing basis matches the payer's setting"),
    ("supervisor_on_file", "A supervising provider is on file"),
    ("not_same_person", "The supervisor is not the clinician"),
    ("supervisor_active", "The supervisor is active"),
    ("supervisor_not_supervised", "The supervisor is not supervised"),
    ("supervisor_enrolled", "The supervisor is in network with the payer on the date of service"),
    ("incident_to_in_office", "Incident-to services are given in the office (POS 11)"),
)
_WHERE = "rendering provider (supervised billing)"


def check_supervision(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """A supervised clinician's claim is billed the way the payer allows, under a proper supervisor."""
    if facts.supervision is None:
        return []
    places = [facts.place_of_service, *(facts.line_place_of_service(line) for line in facts.lines)]
    return supervision_problems(facts.supervision, places, payer_name=facts.payer.name)


def supervision_problems(
    supervision: Supervision, places: Iterable[str], *, payer_name: str
) -> list[Problem]:
    """Every rule :data:`SUPERVISION_RULES` lists, checked for one claim."""
    payer = payer_name or "the payer"
    clinician = _name(supervision.clinician)
    basis, setting = supervision.basis, supervision.payer_setting
    if setting not in {"incident_to", "supervisor"}:
        message = (
            f"{payer} does not credential {clinician} and does not allow supervised billing: "
            "credential the clinician with the payer, or do not bill it"
        )
        return [_problem("allowed", message)]
    problems = []
    if basis != setting:
        message = (
            f"the claim is billed {_basis_words(basis)}, but {payer} is set to {_basis_words(setting)}: "
            "build the claim again"
        )
        problems.append(_problem("basis_matches", message))
    if basis == "direct":
        return problems
    return problems + _supervisor_problems(supervision, payer) + _place_problems(basis, places)


def _supervisor_problems(supervision: Supervision, payer: str) -> list[Problem]:
    supervisor = supervision.supervisor
    if supervisor is None:
        message = f"{_name(supervision.clinician)} has no supervising provider on file"
        return [_problem("supervisor_on_file", message)]
    name = _name(supervisor)
    problems = []
    if supervisor.npi.strip() == supervision.clinician.npi.strip():
        problems.append(_problem("not_same_person", f"{name} cannot supervise their own session"))
    if not supervision.supervisor_active:
        problems.append(_problem("supervisor_active", f"the supervisor {name} is not active"))
    if supervision.supervisor_is_supervised:
        message = f"the supervisor {name} is supervised themselves and cannot bill for a supervisee"
        problems.append(_problem("supervisor_not_supervised", message))
    if not supervision.supervisor_in_network:
        message = f"the supervisor {name} is not in network with {payer} on the date of service"
        problems.append(_problem("supervisor_enrolled", message))
    return problems


def _place_problems(basis: str, places: Iterable[str]) -> list[Problem]:
    if basis != "incident_to":
        return []
    outside = sorted({p.strip() for p in places if p.strip()} - INCIDENT_TO_PLACES_OF_SERVICE)
    if not outside:
        return []
    message = (
        f"incident-to billing needs the supervisor's direct supervision in the office (POS 11); "
        f"the place of service is {', '.join(outside)}"
    )
    return [_problem("incident_to_in_office", message)]


def _problem(rule: str, message: str) -> Problem:
    return Problem(f"scrub.supervision.{rule}", _WHERE, message)


def _name(provider: Provider) -> str:
    return f"{provider.first_name} {provider.last_name}".strip() or provider.npi


def _basis_words(basis: str) -> str:
    return {
        "direct": "under the clinician",
        "incident_to": "incident-to",
        "supervisor": "under the supervisor",
        "not_allowed": "not allow supervised billing",
    }.get(basis, basis)
