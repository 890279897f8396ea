"""Import flags: what a row can raise, how much it matters, and how a person settles it.

A flag is a :class:`~revcycle.db.models.WorkItem` of kind ``flag``. Its ``rule`` names one of
:data:`RULES`; its ``dedupe_key`` is built from the rule and the natural key of what it is
about (client, clinician, time and code — never a database id), so importing the same export
again finds the flag it raised before instead of raising a second one. Flags hold the session
out of "ready to bill" (``holds_billing``) until resolved, except the informational ones.

Each rule lists its one-click resolutions (:func:`revcycle.services.imports.review.resolve_flag`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db.models import WorkItem
from revcycle.services.imports.staging import bulk_insert

__all__ = [
    "RULES",
    "TIME_BANDS",
    "FlagRule",
    "FlagSpec",
    "dedupe_key",
    "duration_problem",
    "existing_flag_keys",
    "write_flags",
]

FLAG_KIND = "flag"


@dataclass(frozen=True)
class FlagRule:
    title: str
    severity: str  # critical | warning | info
    holds_billing: bool
    resolutions: tuple[str, ...]


RULES: dict[str, FlagRule] = {
    "unknown_payer": FlagRule("Unknown payer", "warning", True, ("map_to_payer", "keep_new_payer")),
    "unknown_clinician": FlagRule("Unknown clinician", "warning", True, ("keep_new_clinician",)),
    "no_insurance": FlagRule(
        "Billable code with no insurance", "warning", True, ("mark_self_pay", "coverage_added")
    ),
    "missing_member_id": FlagRule(
        "Insurance member id missing", "warning", True, ("add_member_id", "recheck_after_next_import")
    ),
    "missing_client_info": FlagRule(
        "Client details a claim needs are missing",
        "warning",
        True,
        ("recheck_after_next_import", "acknowledge"),
    ),
    "note_not_locked": FlagRule("Progress note not locked", "warning", True, ("recheck_after_next_import",)),
    "duration_out_of_band": FlagRule(
        "Duration outside the code's time band", "warning", True, ("acknowledge",)
    ),
    "possible_duplicate": FlagRule("Possible duplicate", "warning", True, ("keep_one", "keep_both")),
    "fee_differs": FlagRule("Fee differs from the fee schedule", "info", False, ("accept_fee",)),
    "insurance_over": FlagRule(
        "Insurance overpaid (credit balance to review)", "critical", True, ("acknowledge",)
    ),
    "future_date": FlagRule("Date of service in the future", "warning", True, ("acknowledge",)),
    "secondary_insurance": FlagRule(
        "Secondary insurance: a secondary claim will be needed", "info", True, ("acknowledge",)
    ),
    "ledger_disagrees": FlagRule(
        "SimplePractice's figures disagree with the ledger", "info", False, ("acknowledge",)
    ),
    "missing_from_export": FlagRule(
        "Session missing from a later export (deleted or moved in the EHR?)",
        "warning",
        True,
        ("keep_session", "acknowledge"),
    ),
    "attendance_unmatched": FlagRule(
        "Attendance row matches no imported session", "info", False, ("acknowledge",)
    ),
    "filed_claim_unmatched": FlagRule(
        "Filed claim matches no session or claim", "warning", False, ("acknowledge",)
    ),
    # An AR portfolio re-import never rewrites a claim: what the other system now says is flagged.
    "ar_balance_changed": FlagRule(
        "Balance differs from the AR portfolio file (post an adjustment?)", "warning", False, ("acknowledge",)
    ),
    "ar_claim_changed": FlagRule("Claim differs from the AR portfolio file", "info", False, ("acknowledge",)),
}

# Psychotherapy codes are billed by time: minutes allowed per code (upper bound None = open).
TIME_BANDS: dict[str, tuple[int, int | None]] = {
    "90832": (16, 37),
    "90833": (16, 37),
    "90834": (38, 52),
    "90836": (38, 52),
    "90837": (53, None),
    "90838": (53, None),
    "90846": (26, None),
    "90847": (26, None),
}


def duration_problem(code: str, minutes: int | None) -> str | None:
    """Why ``minutes`` does not fit ``code``'s time band, or None (also when unknown)."""
    band = TIME_BANDS.get(code)
    if band is None or minutes is None:
        return None
    low, high = band
    if minutes < low or (high is not None and minutes > high):
        allowed = f"{low}-{high}" if high is not None else f"{low}+"
        return f"{code} needs {allowed} minutes; the session lasted {minutes}"
    return None


def dedupe_key(rule: str, *parts: object) -> str:
    """``import:<rule>:<hash of the natural key>``: stable across imports, short enough."""
    natural = "|".join(map(str, parts))
    return f"import:{rule}:{hashlib.sha1(natural.encode(), usedforsecurity=False).hexdigest()[:24]}"


@dataclass
class FlagSpec:
    """A flag a row would raise; its session, client and clinician ids are settled at commit.

    A flag about one session has ``session_id``; a flag about a client, a clinician or a payer
    as a whole (a member id missing, a clinician without an NPI, a payer not in the catalog)
    has no session and holds every session of that client or clinician, or of the clients
    that payer covers, instead.
    """

    rule: str
    key: str
    detail: str
    session_id: int | None = None
    client_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    title: str = ""  # default: the rule's; "Unknown payer: X" groups one payer's flags
    provider_id: int | None = None
    payer_id: int | None = None
    claim_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "detail": self.detail, "title": self.title, **self.extra}

    @staticmethod
    def from_json(data: dict[str, Any], *, session_id: int | None, client_id: int | None) -> FlagSpec:
        extra = {k: v for k, v in data.items() if k not in {"rule", "key", "detail", "title"}}
        return FlagSpec(
            data["rule"], data["key"], data["detail"], session_id, client_id, extra, data.get("title", "")
        )


def existing_flag_keys(session: Session, practice_id: int, keys: Iterable[str] | None = None) -> set[str]:
    """The dedupe keys of import flags the practice already has (any status)."""
    query = select(WorkItem.dedupe_key).where(
        WorkItem.practice_id == practice_id, WorkItem.kind == FLAG_KIND, WorkItem.dedupe_key.like("import:%")
    )
    if keys is not None:
        wanted = list(set(keys))
        if len(wanted) > 5_000:  # cheaper to read them all than to ask in thousands of pieces
            return existing_flag_keys(session, practice_id)
        found: set[str] = set()
        for start in range(0, len(wanted), 1000):
            found.update(
                k
                for k in session.scalars(query.where(WorkItem.dedupe_key.in_(wanted[start : start + 1000])))
                if k
            )
        return found
    return {key for key in session.scalars(query) if key}


def write_flags(session: Session, practice_id: int, flags: Sequence[FlagSpec]) -> int:
    """Insert the flags whose dedupe key is new (one multi-row INSERT); returns how many."""
    known = existing_flag_keys(session, practice_id, (flag.key for flag in flags))
    rows: list[dict[str, Any]] = []
    for flag in flags:
        if flag.key in known:
            continue
        known.add(flag.key)
        rule = RULES[flag.rule]
        rows.append(
            {
                "practice_id": practice_id,
                "kind": FLAG_KIND,
                "severity": rule.severity,
                "status": "open",
                "title": (flag.title or rule.title)[:200],
                "detail": flag.detail,
                "rule": flag.rule,
                "dedupe_key": flag.key,
                "holds_billing": rule.holds_billing,
                "session_id": flag.session_id,
                "client_id": flag.client_id,
                "provider_id": flag.provider_id,
                "payer_id": flag.payer_id,
                "claim_id": flag.claim_id,
            }
        )
    bulk_insert(session, WorkItem, rows)
    return len(rows)
