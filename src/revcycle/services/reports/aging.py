"""The aging report: every claim with open A/R, by how old it is.

* **Balance**: the claim's open A/R from the ledger's claim balance rows, ``ar:insurance``
  (what the payer still owes) and ``ar:patient`` (what the client owes) shown apart; a
  credit balance (negative) is kept, so the buckets sum to the ledger's A/R to the cent.
  The A/R of charges no claim holds (a self-pay session, a session not billed yet) is
  bucketed too, by date of service, as the group "Not on a claim" (its count is charges), so
  the report's total equals the ledger's ``ar:insurance + ar:patient``; anything on neither a
  claim nor a charge is shown apart under the buckets.
* **Age**: whole days from the basis date to ``today``: the date of service (the claim's
  first service date), or the first submission's date in the practice's time zone (a claim
  never submitted, e.g. one brought over from another system, ages from its date of
  service). A future date counts as 0 days.
* **Buckets**: configurable as their upper bounds: ``30,60,90,120`` gives 0-30, 31-60,
  61-90, 91-120 and 121+ (the default); rows are toned ``bucket-1`` .. ``bucket-5`` (the
  fifth and later buckets share the last tone).
* **Groups**: by payer, clinician (the claim's rendering provider) or claim status.

The bucket of each claim is computed in SQL from date boundaries (``today - 30`` ...), so the
summary is one GROUP BY however many claims there are; only the listed claims come back
as rows (the page shows the oldest first, the downloads all of them or the ticked ones).

The bulk action "follow up" (:func:`follow_up_claims`) sets the chosen claims' next
follow-up date to today and refreshes their follow-up work items, which puts them at the top
of the work queue; it is audited per claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, exists, func, literal, select
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable, table_of
from revcycle.db import models as m
from revcycle.domain.ar_rules import DEFAULT_BUCKETS, AgingBucket
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import audit, followup, queries
from revcycle.services.actor import Actor
from revcycle.services.reports import day_starts
from revcycle.services.scoping import practice_scopes

__all__ = [
    "BASES",
    "GROUPS",
    "AgingClaim",
    "AgingFilters",
    "AgingGroup",
    "AgingReport",
    "aging_filters",
    "aging_report",
    "aging_table",
    "buckets_text",
    "follow_up_claims",
    "parse_buckets",
]

BASES = {"service": "Date of service", "submission": "First submission date"}
GROUPS = {"payer": "Payer", "clinician": "Clinician", "status": "Claim status"}
MAX_BOUNDS = 8
MAX_SELECTED = 1000
TONES = 5


@dataclass(frozen=True)
class AgingFilters:
    basis: str = "service"
    buckets: tuple[AgingBucket, ...] = DEFAULT_BUCKETS
    group_by: str = "payer"
    claim_ids: tuple[int, ...] | None = None  # None: every claim with open A/R


def parse_buckets(text: str) -> tuple[AgingBucket, ...]:
    """``30,60,90,120`` -> 0-30, 31-60, 61-90, 91-120, 121+; empty -> the defaults."""
    cleaned = (text or "").strip()
    if not cleaned:
        return DEFAULT_BUCKETS
    example = "give the upper bounds in days, e.g. 30,60,90,120"
    try:
        bounds = [int(part) for part in cleaned.split(",")]
    except ValueError:
        raise InvalidInput(f"buckets: {cleaned!r} is not a list of whole days; {example}") from None
    if any(bound <= 0 for bound in bounds):
        raise InvalidInput(f"buckets: every bound must be a positive number of days; {example}")
    if any(later <= earlier for earlier, later in pairwise(bounds)):
        raise InvalidInput(f"buckets: bounds must increase; {example}")
    if len(bounds) > MAX_BOUNDS:
        raise InvalidInput(f"buckets: at most {MAX_BOUNDS} bounds ({MAX_BOUNDS + 1} buckets)")
    lows = [0, *(bound + 1 for bound in bounds)]
    return tuple(AgingBucket(low, high) for low, high in zip(lows, [*bounds, None], strict=True))


def buckets_text(buckets: Sequence[AgingBucket]) -> str:
    """The inverse of :func:`parse_buckets` (for links and the form)."""
    return ",".join(str(b.max_days) for b in buckets if b.max_days is not None)


def aging_filters(
    *, basis: str = "", buckets: str = "", group_by: str = "", claim_ids: Sequence[int] | None = None
) -> AgingFilters:
    """The filters from a request's values; InvalidInput naming the field for a bad one."""
    basis = basis or "service"
    group_by = group_by or "payer"
    if basis not in BASES:
        raise InvalidInput(f"basis: {basis!r} is not one of {', '.join(BASES)}")
    if group_by not in GROUPS:
        raise InvalidInput(f"group_by: {group_by!r} is not one of {', '.join(GROUPS)}")
    if claim_ids is not None and len(claim_ids) > MAX_SELECTED:
        raise InvalidInput(f"claim_ids: at most {MAX_SELECTED} claims at once")
    chosen = tuple(dict.fromkeys(claim_ids)) if claim_ids else None
    return AgingFilters(basis, parse_buckets(buckets), group_by, chosen)


@dataclass(frozen=True)
class AgingClaim:
    claim_id: int
    number: str
    client_id: int
    client_name: str
    payer_name: str
    clinician: str
    status: str
    service_on: date
    submitted_on: date | None
    basis_on: date
    days: int
    bucket: int  # index into the report's buckets
    insurance_cents: int
    patient_cents: int
    next_followup_on: date | None

    @property
    def total_cents(self) -> int:
        return self.insurance_cents + self.patient_cents

    @property
    def tone(self) -> str:
        return f"bucket-{min(self.bucket, TONES - 1) + 1}"


@dataclass
class AgingGroup:
    key: str
    label: str
    claims: int = 0
    insurance_cents: int = 0
    patient_cents: int = 0
    by_bucket: list[int] = field(default_factory=list)
    insurance_by_bucket: list[int] = field(default_factory=list)  # kept for "not on a claim"

    @property
    def total_cents(self) -> int:
        return self.insurance_cents + self.patient_cents


@dataclass(frozen=True)
class AgingReport:
    today: date
    filters: AgingFilters
    groups: tuple[AgingGroup, ...]
    totals: AgingGroup
    claims: tuple[AgingClaim, ...]  # the listed claims (a page's first ``limit``)
    claims_shown_all: bool
    off_claim_cents: int  # ledger A/R on neither a claim nor a charge (outside the buckets)
    ledger_ar_cents: int  # ar:insurance + ar:patient, practice-wide
    unclaimed: AgingGroup | None = None  # charges on no claim (self-pay, not yet billed)

    @property
    def buckets(self) -> tuple[AgingBucket, ...]:
        return self.filters.buckets

    @property
    def bucket_labels(self) -> list[str]:
        return [b.label for b in self.buckets]

    @property
    def client_ids(self) -> set[int]:
        return {c.client_id for c in self.claims}

    @property
    def notes(self) -> tuple[str, ...]:
        return (
            "Balance: the claim's open A/R from the ledger (ar:insurance and ar:patient claim "
            "balances; a credit balance shows negative).",
            f"Age: days from the {BASES[self.filters.basis].lower()} to {self.today.isoformat()}"
            + (
                "; a claim never submitted ages from its date of service."
                if self.filters.basis == "submission"
                else "."
            ),
            "Not on a claim: the A/R of charges no claim holds (self-pay sessions, sessions not "
            "yet billed), aged from their date of service.",
            f"Ledger A/R in all: {self.ledger_ar_cents / 100:,.2f}"
            + (
                f", of which {self.off_claim_cents / 100:,.2f} on no charge." if self.off_claim_cents else "."
            ),
        )


# --- the queries --------------------------------------------------------------------------------


def _sum_of(account: Account) -> Any:
    lb = m.LedgerBalance
    return func.sum(case((lb.account == account.value, lb.balance_cents), else_=0))


def _balances(practice_id: int) -> Any:
    lb = m.LedgerBalance
    return (
        select(
            lb.scope_id.label("claim_id"),
            _sum_of(Account.AR_INSURANCE).label("ins"),
            _sum_of(Account.AR_PATIENT).label("pat"),
        )
        .where(
            lb.practice_id == practice_id,
            lb.scope == BalanceScope.CLAIM.value,
            lb.account.in_([Account.AR_INSURANCE.value, Account.AR_PATIENT.value]),
            lb.balance_cents != 0,
        )
        .group_by(lb.scope_id)
        .subquery("ar")
    )


def _first_submissions(practice_id: int) -> Any:
    return (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("first_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery("first_sub")
    )


def _bucket_case(basis_on: Any, buckets: Sequence[AgingBucket], today: date, starts: Any = None) -> Any:
    """The bucket index of a basis date (or, with ``starts``, a timestamp compared with the
    instants local days begin): the first bucket whose oldest day it is not older than."""
    whens = []
    for index, bucket in enumerate(buckets):
        if bucket.max_days is None:
            break
        oldest = today - timedelta(days=bucket.max_days)
        whens.append((basis_on >= (starts(oldest) if starts else oldest), literal(index)))
    return case(*whens, else_=literal(len(buckets) - 1)) if whens else literal(0)


def _bucket_expr(filters: AgingFilters, claim: Any, first_at: Any, today: date, timezone: str) -> Any:
    by_service = _bucket_case(claim.service_from_on, filters.buckets, today)
    if filters.basis == "service":
        return by_service
    by_submission = _bucket_case(first_at, filters.buckets, today, lambda d: day_starts(d, timezone))
    return case((first_at.is_(None), by_service), else_=by_submission)


def _group_columns(group_by: str) -> tuple[Any, ...]:
    if group_by == "payer":
        return (m.Payer.id, m.Payer.name)
    if group_by == "clinician":
        return (m.Provider.id, m.Provider.last_name, m.Provider.first_name)
    return (m.Claim.status,)


def _group_label(group_by: str, values: Sequence[Any]) -> tuple[str, str]:
    if group_by == "payer":
        return str(values[0]), str(values[1])
    if group_by == "clinician":
        if values[0] is None:
            return "", "No clinician"
        return str(values[0]), f"{values[2]} {values[1]}"
    return str(values[0]), str(values[0]).replace("_", " ").capitalize()


@dataclass(frozen=True)
class _Query:
    """The claims with open A/R joined to what the report shows, and its computed columns."""

    query: Select[Any]
    ar: Any
    first_at: Any
    bucket: Any


def _base(practice_id: int, filters: AgingFilters, today: date, timezone: str) -> _Query:
    ar, first = _balances(practice_id), _first_submissions(practice_id)
    bucket = _bucket_expr(filters, m.Claim, first.c.first_at, today, timezone).label("bucket")
    query = (
        select()
        .select_from(ar)
        .join(m.Claim, m.Claim.id == ar.c.claim_id)
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .outerjoin(m.Provider, m.Provider.id == m.Claim.provider_id)
        .outerjoin(first, first.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id)
    )
    if filters.claim_ids is not None:
        query = query.where(m.Claim.id.in_(filters.claim_ids))
    return _Query(query, ar, first.c.first_at, bucket)


def _groups(db: Session, q: _Query, filters: AgingFilters) -> list[AgingGroup]:
    keys = _group_columns(filters.group_by)
    summary = q.query.with_only_columns(
        *keys, q.bucket, func.count(), func.sum(q.ar.c.ins), func.sum(q.ar.c.pat)
    ).group_by(*keys, q.bucket)
    groups: dict[str, AgingGroup] = {}
    for row in db.execute(summary):
        *values, index, count, ins, pat = row
        key, label = _group_label(filters.group_by, values)
        group = groups.setdefault(key, AgingGroup(key, label, by_bucket=[0] * len(filters.buckets)))
        group.claims += int(count)
        group.insurance_cents += int(ins or 0)
        group.patient_cents += int(pat or 0)
        group.by_bucket[int(index)] += int(ins or 0) + int(pat or 0)
    return sorted(groups.values(), key=lambda g: (-g.total_cents, g.label))


def _claims(
    db: Session, q: _Query, limit: int | None, tz: ZoneInfo, today: date, *, basis: str
) -> list[AgingClaim]:
    rows = q.query.with_only_columns(
        m.Claim.id,
        m.Claim.number,
        m.Claim.client_id,
        m.Claim.status,
        m.Claim.service_from_on,
        m.Claim.next_followup_on,
        m.Payer.name,
        m.Provider.first_name,
        m.Provider.last_name,
        q.first_at,
        q.ar.c.ins,
        q.ar.c.pat,
        q.bucket,
    ).order_by(q.bucket.desc(), m.Claim.service_from_on, m.Claim.id)
    if limit is not None:
        rows = rows.limit(limit)
    fetched = db.execute(rows).all()
    names = _client_names(db, {row[2] for row in fetched})
    out = []
    for row in fetched:
        claim_id, number, client_id, status, service_on, next_on, payer, first, last, sent_at, *money = row
        ins, pat, index = money
        submitted_on = sent_at.astimezone(tz).date() if sent_at is not None else None
        basis_on = (submitted_on if basis == "submission" else None) or service_on
        out.append(
            AgingClaim(
                claim_id=claim_id,
                number=number,
                client_id=client_id,
                client_name=names.get(client_id, ""),
                payer_name=payer,
                clinician=f"{first} {last}" if last else "",
                status=status,
                service_on=service_on,
                submitted_on=submitted_on,
                basis_on=basis_on,
                days=max((today - basis_on).days, 0),
                bucket=int(index),
                insurance_cents=int(ins),
                patient_cents=int(pat),
                next_followup_on=next_on,
            )
        )
    return out


def _client_names(db: Session, client_ids: set[int]) -> dict[int, str]:
    if not client_ids:
        return {}
    rows = db.execute(
        select(m.Client.id, m.Client.last_name, m.Client.first_name).where(m.Client.id.in_(client_ids))
    )
    return {cid: f"{last}, {first}" for cid, last, first in rows}


def aging_report(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    today: date,
    filters: AgingFilters | None = None,
    limit: int | None = None,
) -> AgingReport:
    """Open A/R by age and group (see the module docstring); ``limit`` caps the listed claims
    (the oldest first), never the summary."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    filters = filters or AgingFilters()
    practice = db.get(m.Practice, practice_id)
    assert practice is not None
    q = _base(practice_id, filters, today, practice.timezone)
    groups = _groups(db, q, filters)
    claim_count = sum(g.claims for g in groups)
    unclaimed = _unclaimed(db, practice_id, filters, today) if filters.claim_ids is None else None
    if unclaimed is not None and unclaimed.claims:
        groups.append(unclaimed)
    totals = AgingGroup("", "Total", by_bucket=[0] * len(filters.buckets))
    for group in groups:
        totals.claims += group.claims
        totals.insurance_cents += group.insurance_cents
        totals.patient_cents += group.patient_cents
        totals.by_bucket = [a + b for a, b in zip(totals.by_bucket, group.by_bucket, strict=True)]
    claims = _claims(db, q, limit, ZoneInfo(practice.timezone), today, basis=filters.basis)
    ledger = queries.account_balances(
        db, practice_id=practice_id, accounts=(Account.AR_INSURANCE, Account.AR_PATIENT)
    )
    ledger_ar = sum(ledger.values())
    off_claim = ledger_ar - totals.total_cents if filters.claim_ids is None else 0
    return AgingReport(
        today=today,
        filters=filters,
        groups=tuple(groups),
        totals=totals,
        claims=tuple(claims),
        claims_shown_all=limit is None or len(claims) >= claim_count,
        off_claim_cents=off_claim,
        ledger_ar_cents=ledger_ar,
        unclaimed=unclaimed if unclaimed is not None and unclaimed.claims else None,
    )


UNCLAIMED = "Not on a claim"


def _unclaimed(db: Session, practice_id: int, filters: AgingFilters, today: date) -> AgingGroup:
    """The A/R of charges no claim line holds, bucketed by their session's date of service
    (``claims`` counts the charges)."""
    lb = m.LedgerBalance
    bucket = _bucket_case(m.ServiceSession.service_on, filters.buckets, today).label("bucket")
    rows = db.execute(
        select(
            bucket,
            func.count(func.distinct(lb.scope_id)),
            _sum_of(Account.AR_INSURANCE),
            _sum_of(Account.AR_PATIENT),
        )
        .select_from(lb)
        .join(m.Charge, m.Charge.id == lb.scope_id)
        .join(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .where(
            lb.practice_id == practice_id,
            lb.scope == BalanceScope.CHARGE.value,
            lb.account.in_([Account.AR_INSURANCE.value, Account.AR_PATIENT.value]),
            lb.balance_cents != 0,
            ~exists().where(m.ClaimLine.charge_id == lb.scope_id),
        )
        .group_by(bucket)
    )
    size = len(filters.buckets)
    group = AgingGroup("unclaimed", UNCLAIMED, by_bucket=[0] * size, insurance_by_bucket=[0] * size)
    for index, count, ins, pat in rows:
        group.insurance_by_bucket[int(index)] += int(ins or 0)
        group.claims += int(count)
        group.insurance_cents += int(ins or 0)
        group.patient_cents += int(pat or 0)
        group.by_bucket[int(index)] += int(ins or 0) + int(pat or 0)
    return group


# --- the download -----------------------------------------------------------------------------


def aging_table(report: AgingReport) -> ReportTable:
    """One row per claim (every claim the report lists), then one per bucket for the A/R of
    charges on no claim, toned by bucket, with totals (the ledger's A/R for a full report)."""
    columns = (
        Column("number", "Claim"),
        Column("client", "Client"),
        Column("group", GROUPS[report.filters.group_by]),
        Column("payer", "Payer"),
        Column("clinician", "Clinician"),
        Column("status", "Status"),
        Column("service_on", "Date of service", "date"),
        Column("submitted_on", "First submitted", "date"),
        Column("days", "Days", "days"),
        Column("bucket", "Bucket"),
        Column("insurance", "Insurance A/R", "cents"),
        Column("patient", "Patient A/R", "cents"),
        Column("total", "Total A/R", "cents"),
    )
    labels = report.bucket_labels
    rows: list[dict[str, Any]] = [
        {
            "number": c.number,
            "client": c.client_name,
            "group": _claim_group(report.filters.group_by, c),
            "payer": c.payer_name,
            "clinician": c.clinician,
            "status": c.status,
            "service_on": c.service_on,
            "submitted_on": c.submitted_on,
            "days": c.days,
            "bucket": labels[c.bucket],
            "insurance": c.insurance_cents,
            "patient": c.patient_cents,
            "total": c.total_cents,
        }
        for c in report.claims
    ]
    tones = [c.tone for c in report.claims]
    if report.unclaimed is not None:
        extra = _unclaimed_rows(report.unclaimed, labels)
        rows += extra
        tones += [f"bucket-{min(labels.index(r['bucket']), TONES - 1) + 1}" for r in extra]
    totals = {
        "number": "Total",
        "insurance": sum(r["insurance"] for r in rows),
        "patient": sum(r["patient"] for r in rows),
        "total": sum(r["total"] for r in rows),
    }
    filters = [
        ("Basis", BASES[report.filters.basis]),
        ("Buckets", ", ".join(labels)),
        ("Grouped by", GROUPS[report.filters.group_by]),
        ("As of", report.today.isoformat()),
    ]
    if report.filters.claim_ids is not None:
        filters.append(("Selected claims", str(len(report.filters.claim_ids))))
    return table_of(
        "Aging",
        columns,
        rows,
        generated_on=report.today,
        filters=filters,
        totals=totals,
        notes=report.notes,
        tones=tones,
    )


def _unclaimed_rows(group: AgingGroup, labels: list[str]) -> list[dict[str, Any]]:
    """One row per bucket holding A/R of charges on no claim."""
    return [
        {
            "number": UNCLAIMED,
            "group": group.label,
            "bucket": labels[index],
            "insurance": ins,
            "patient": total - ins,
            "total": total,
        }
        for index, (total, ins) in enumerate(zip(group.by_bucket, group.insurance_by_bucket, strict=True))
        if total or ins
    ]


def _claim_group(group_by: str, claim: AgingClaim) -> str:
    if group_by == "payer":
        return claim.payer_name
    if group_by == "clinician":
        return claim.clinician or "No clinician"
    return claim.status


# --- the bulk action ----------------------------------------------------------------------------


def follow_up_claims(
    db: Session, *, actor: Actor, practice_id: int, claim_ids: Sequence[int], today: date
) -> int:
    """Set the chosen claims' next follow-up date to ``today`` and refresh their follow-up
    items (due today: the top of the work queue). Audited per claim; never commits. Answers
    how many claims were moved; InvalidInput when none is chosen or one is not the practice's."""
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    chosen = list(dict.fromkeys(claim_ids))
    if not chosen:
        raise InvalidInput("claim_ids: tick at least one claim")
    if len(chosen) > MAX_SELECTED:
        raise InvalidInput(f"claim_ids: at most {MAX_SELECTED} claims at once")
    claims = list(
        db.scalars(select(m.Claim).where(m.Claim.practice_id == practice_id, m.Claim.id.in_(chosen)))
    )
    if len(claims) != len(chosen):
        missing = sorted(set(chosen) - {c.id for c in claims})
        raise InvalidInput(f"claim_ids: claim {missing[0]} not found in this practice")
    for claim in claims:
        before = claim.next_followup_on
        claim.next_followup_on = today
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity="claim",
            entity_id=claim.id,
            client_ids=[claim.client_id],
            before={"next_followup_on": before},
            after={"next_followup_on": today},
            reason="aging report: follow up now",
        )
    db.flush()
    followup.rebuild(db, practice_id=practice_id, today=today, actor=actor, claim_ids=[c.id for c in claims])
    return len(claims)
