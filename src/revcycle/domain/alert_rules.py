"""The practice's alert rules: what has sat too long at a stage, and filing deadlines coming up.

Each rule is a pure function over plain facts about one session, one claim or the practice,
and today's date (the practice's): it answers a :class:`Finding` (severity, detail, due date)
or ``None``. Nothing here reads a clock; the service gathers the facts, passes "today" and
turns findings into alerts (``services.alerts``), so the tests run the rules on a fixed
calendar.

Durations count whole days from when the session or claim entered its current stage: the
date of service for ``completed``, the day the note was locked for ``documented``, the day it
was marked ready for ``ready_to_bill``, the last submission for ``submitted``, and the day the
claim's status last changed for the later stages. "More than 3 days" means 4 or more.

=======================  =======  ==================  =========  =================================
rule                     about    owner               severity   when
=======================  =======  ==================  =========  =================================
completed_no_note        session  director            warning    held > 3 days, note not locked
documented_not_ready     session  billing             warning    note locked > 5 days, not ready
ready_not_submitted      session  billing             warning    marked ready > 7 days, not sent
submitted_no_response    claim    billing             warning    submitted > 14 days, no answer
pending_too_long         claim    billing             warning    accepted by the payer > 30 days
approved_unpaid          claim    admin               warning    adjudicated > 45 days, unpaid
claim_denied             claim    billing, director   critical   any denial (due: appeal limit)
appealing_too_long       claim    billing             warning    appealed > 60 days
open_over_90_days        claim    admin               critical   open > 90 days since service
unbilled_sessions        practice director            warning    more than 10 unbilled sessions
timely_filing            session  billing             warning    filing deadline within 30 days;
                         claim                        critical   within 7 days, or passed
contract_expiring        contract admin               warning    a payer contract ends within 60
                                                      critical   days; within 14
=======================  =======  ==================  =========  =================================

A rule with two owners (a denial) raises one alert per owner, so each can acknowledge their
own. Timely filing keeps one alert per session or claim whose severity rises from warning to
critical as the deadline nears. A session's filing deadline is carried by its claim once it is
on one (the claim rule applies), and a claim's only until the payer has it (draft, ready, or
rejected and to be sent again).

A payer contract's expiry is the practice's business (one alert per contract, not per claim):
it clears when the contract is extended past the window or renewed — another contract with
the same payer that starts no later than the day after it ends and runs longer. A renewal
that leaves a gap does not clear it (the detail names when the next one starts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from revcycle.domain.claim_status import OPEN_STATUSES, ClaimStatus
from revcycle.domain.pipeline import PipelineStage

__all__ = [
    "CLAIM_RULES",
    "CONTRACT_RULES",
    "PRACTICE_RULES",
    "RULE_TITLES",
    "SESSION_RULES",
    "UNBILLED_THRESHOLD",
    "AlertMatch",
    "AlertRule",
    "ClaimAlertFacts",
    "ContractAlertFacts",
    "Finding",
    "OwnerRole",
    "PracticeAlertFacts",
    "SessionAlertFacts",
    "Severity",
    "evaluate",
    "filing_severity",
]

UNBILLED_THRESHOLD = 10
CONTRACT_WARNING_DAYS = 60
CONTRACT_CRITICAL_DAYS = 14
FILING_WARNING_DAYS = 30
FILING_CRITICAL_DAYS = 7
# Claims whose filing deadline still matters: the payer does not have them (yet, or again).
FILING_CLAIM_STATUSES = frozenset({ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED})


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK: Mapping[Severity, int] = MappingProxyType(
    {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
)


class OwnerRole(StrEnum):
    """Who a rule names as owner; services.alerts turns the role into a person."""

    DIRECTOR = "director"
    BILLING = "billing"
    ADMIN = "admin"


@dataclass(frozen=True)
class SessionAlertFacts:
    """A held session not yet sent to a payer.

    ``stage`` is the pipeline's; ``unbilled``: insured, not self-pay, not yet submitted (on no
    claim, or on a draft or ready one); ``on_claim``: on a live claim (which then carries the
    filing deadline).
    """

    session_id: int
    client_id: int
    stage: PipelineStage
    service_on: date
    note_locked_on: date | None = None
    ready_on: date | None = None
    unbilled: bool = False
    on_claim: bool = False
    filing_deadline_on: date | None = None


@dataclass(frozen=True)
class ClaimAlertFacts:
    """An open claim. ``stage_since_on``: when it entered its current status (for submitted and
    acknowledged, its last submission); ``appeal_deadline_on``: a denial's appeal limit."""

    claim_id: int
    client_id: int
    status: ClaimStatus
    service_on: date
    stage_since_on: date
    filing_deadline_on: date | None = None
    appeal_deadline_on: date | None = None


@dataclass(frozen=True)
class PracticeAlertFacts:
    practice_id: int
    unbilled_sessions: int


@dataclass(frozen=True)
class ContractAlertFacts:
    """A payer contract with an end date. ``next_starts_on``: the earliest start of a later
    contract with the same payer that runs past this one's end (open-ended or ending later)."""

    contract_id: int
    number: str
    payer_name: str
    ends_on: date
    next_starts_on: date | None = None


@dataclass(frozen=True)
class Finding:
    severity: Severity
    detail: str
    due_on: date | None = None


@dataclass(frozen=True)
class AlertRule:
    id: str
    title: str
    owners: tuple[OwnerRole, ...]
    check: Callable[..., Finding | None]
    cleared: str  # what "condition cleared" means, for the resolution text


@dataclass(frozen=True)
class AlertMatch:
    """One alert a rule wants open: its rule, subject, owner and finding."""

    rule: str
    subject: str  # session | claim | practice
    subject_id: int
    owner_role: OwnerRole
    title: str
    finding: Finding
    client_id: int | None = None
    shared: bool = False  # the rule has several owners: one alert each

    @property
    def dedupe_key(self) -> str:
        key = f"alert:{self.rule}:{self.subject}:{self.subject_id}"
        return f"{key}:{self.owner_role}" if self.shared else key


def _days(since: date, today: date) -> int:
    return (today - since).days


def filing_severity(deadline: date, today: date) -> Severity | None:
    """Critical within 7 days or past, warning within 30, else nothing to say yet."""
    left = (deadline - today).days
    if left <= FILING_CRITICAL_DAYS:
        return Severity.CRITICAL
    if left <= FILING_WARNING_DAYS:
        return Severity.WARNING
    return None


def _filing_finding(deadline: date | None, today: date) -> Finding | None:
    if deadline is None:
        return None
    severity = filing_severity(deadline, today)
    if severity is None:
        return None
    left = (deadline - today).days
    text = f"filing deadline passed on {deadline}" if left < 0 else f"file by {deadline} ({left} days left)"
    return Finding(severity, text, deadline)


# --- session rules ----------------------------------------------------------------------------


def completed_no_note(facts: SessionAlertFacts, today: date) -> Finding | None:
    days = _days(facts.service_on, today)
    if facts.stage is not PipelineStage.COMPLETED or days <= 3:
        return None
    return Finding(Severity.WARNING, f"held {days} days ago, note not locked", facts.service_on)


def documented_not_ready(facts: SessionAlertFacts, today: date) -> Finding | None:
    if facts.stage is not PipelineStage.DOCUMENTED or facts.ready_on or facts.note_locked_on is None:
        return None
    days = _days(facts.note_locked_on, today)
    if days <= 5:
        return None
    return Finding(Severity.WARNING, f"note locked {days} days ago, not marked ready", facts.note_locked_on)


def ready_not_submitted(facts: SessionAlertFacts, today: date) -> Finding | None:
    waiting = facts.stage is PipelineStage.READY_TO_BILL or (
        facts.stage is PipelineStage.DOCUMENTED and facts.ready_on is not None
    )
    if not waiting or facts.ready_on is None:
        return None
    days = _days(facts.ready_on, today)
    if days <= 7:
        return None
    return Finding(Severity.WARNING, f"ready to bill for {days} days, not submitted", facts.ready_on)


def session_filing(facts: SessionAlertFacts, today: date) -> Finding | None:
    if not facts.unbilled or facts.on_claim:
        return None
    return _filing_finding(facts.filing_deadline_on, today)


# --- claim rules ------------------------------------------------------------------------------


def _stuck(statuses: frozenset[ClaimStatus], limit: int, words: str) -> Callable[..., Finding | None]:
    def check(facts: ClaimAlertFacts, today: date) -> Finding | None:
        days = _days(facts.stage_since_on, today)
        if facts.status not in statuses or days <= limit:
            return None
        return Finding(Severity.WARNING, f"{words} for {days} days", facts.stage_since_on)

    return check


submitted_no_response = _stuck(
    frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACKNOWLEDGED}), 14, "submitted with no response"
)
pending_too_long = _stuck(frozenset({ClaimStatus.ACCEPTED}), 30, "pending with the payer")
approved_unpaid = _stuck(frozenset({ClaimStatus.ADJUDICATED}), 45, "approved and unpaid")
appealing_too_long = _stuck(frozenset({ClaimStatus.APPEALED}), 60, "under appeal")


def claim_denied(facts: ClaimAlertFacts, today: date) -> Finding | None:
    if facts.status is not ClaimStatus.DENIED:
        return None
    appeal = f"; appeal by {facts.appeal_deadline_on}" if facts.appeal_deadline_on else ""
    return Finding(Severity.CRITICAL, f"denied on {facts.stage_since_on}{appeal}", facts.appeal_deadline_on)


def open_over_90_days(facts: ClaimAlertFacts, today: date) -> Finding | None:
    days = _days(facts.service_on, today)
    if facts.status not in OPEN_STATUSES or days <= 90:
        return None
    return Finding(Severity.CRITICAL, f"open {days} days since the date of service ({facts.status})")


def claim_filing(facts: ClaimAlertFacts, today: date) -> Finding | None:
    if facts.status not in FILING_CLAIM_STATUSES:
        return None
    return _filing_finding(facts.filing_deadline_on, today)


# --- practice rules ---------------------------------------------------------------------------


def unbilled_sessions(facts: PracticeAlertFacts, today: date) -> Finding | None:
    if facts.unbilled_sessions <= UNBILLED_THRESHOLD:
        return None
    return Finding(Severity.WARNING, f"{facts.unbilled_sessions} sessions held and not yet billed")


# --- contract rules ---------------------------------------------------------------------------


def contract_expiring(facts: ContractAlertFacts, today: date) -> Finding | None:
    left = (facts.ends_on - today).days
    if left < 0 or left > CONTRACT_WARNING_DAYS:
        return None
    renewal = facts.next_starts_on
    if renewal is not None and (renewal - facts.ends_on).days <= 1:
        return None
    severity = Severity.CRITICAL if left <= CONTRACT_CRITICAL_DAYS else Severity.WARNING
    days = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
    next_text = f"; the next starts on {renewal}" if renewal is not None else ""
    detail = f"contract {facts.number} with {facts.payer_name} ends on {facts.ends_on} ({days}){next_text}"
    return Finding(severity, detail, facts.ends_on)


D, B, A = OwnerRole.DIRECTOR, OwnerRole.BILLING, OwnerRole.ADMIN

SESSION_RULES: tuple[AlertRule, ...] = (
    AlertRule("completed_no_note", "Note not locked", (D,), completed_no_note, "the note is locked"),
    AlertRule(
        "documented_not_ready",
        "Documented, not ready",
        (B,),
        documented_not_ready,
        "marked ready or moved on",
    ),
    AlertRule("ready_not_submitted", "Ready, not submitted", (B,), ready_not_submitted, "submitted"),
    AlertRule("timely_filing", "Filing deadline", (B,), session_filing, "billed, or no deadline near"),
)
CLAIM_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        "submitted_no_response",
        "Submitted, no response",
        (B,),
        submitted_no_response,
        "the payer answered",
    ),
    AlertRule("pending_too_long", "Pending too long", (B,), pending_too_long, "the payer decided"),
    AlertRule("approved_unpaid", "Approved, unpaid", (A,), approved_unpaid, "paid or moved on"),
    AlertRule("claim_denied", "Claim denied", (B, D), claim_denied, "no longer denied"),
    AlertRule("appealing_too_long", "Appeal open too long", (B,), appealing_too_long, "the appeal moved on"),
    AlertRule("open_over_90_days", "Open over 90 days", (A,), open_over_90_days, "the claim is closed"),
    AlertRule("timely_filing", "Filing deadline", (B,), claim_filing, "filed with the payer"),
)
PRACTICE_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        "unbilled_sessions", "Unbilled sessions", (D,), unbilled_sessions, f"{UNBILLED_THRESHOLD} or fewer"
    ),
)

CONTRACT_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        "contract_expiring",
        "Payer contract ending",
        (A,),
        contract_expiring,
        "renewed, extended or ended",
    ),
)

RULE_TITLES: Mapping[str, str] = MappingProxyType(
    {rule.id: rule.title for rule in (*SESSION_RULES, *CLAIM_RULES, *PRACTICE_RULES, *CONTRACT_RULES)}
)
CLEARED: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        **{(rule.id, "session"): rule.cleared for rule in SESSION_RULES},
        **{(rule.id, "claim"): rule.cleared for rule in CLAIM_RULES},
        **{(rule.id, "practice"): rule.cleared for rule in PRACTICE_RULES},
        **{(rule.id, "contract"): rule.cleared for rule in CONTRACT_RULES},
    }
)


def _apply(
    rules: Sequence[AlertRule],
    subject: str,
    items: Sequence[tuple[int, int | None, object]],
    today: date,
) -> Iterator[AlertMatch]:
    for rule in rules:
        for subject_id, client_id, facts in items:
            finding = rule.check(facts, today)
            if finding is None:
                continue
            for owner in rule.owners:
                yield AlertMatch(
                    rule=rule.id,
                    subject=subject,
                    subject_id=subject_id,
                    owner_role=owner,
                    title=rule.title,
                    finding=finding,
                    client_id=client_id,
                    shared=len(rule.owners) > 1,
                )


def evaluate(
    *,
    today: date,
    sessions: Sequence[SessionAlertFacts] = (),
    claims: Sequence[ClaimAlertFacts] = (),
    practice: PracticeAlertFacts | None = None,
    contracts: Sequence[ContractAlertFacts] = (),
) -> list[AlertMatch]:
    """Every alert the rules want open today, one per rule, subject and owner."""
    matches = list(
        _apply(SESSION_RULES, "session", [(s.session_id, s.client_id, s) for s in sessions], today)
    )
    matches += _apply(CLAIM_RULES, "claim", [(c.claim_id, c.client_id, c) for c in claims], today)
    if practice is not None:
        matches += _apply(PRACTICE_RULES, "practice", [(practice.practice_id, None, practice)], today)
    matches += _apply(CONTRACT_RULES, "contract", [(c.contract_id, None, c) for c in contracts], today)
    return matches
