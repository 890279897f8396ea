"""Read-side queries behind the lists and detail views of the API and the pages.

Every function takes the actor and answers only what the actor may see (services.scoping):
their practices, narrowed to their own records where the permission table grants ``OWN``.
Lists answer a :class:`~revcycle.services.scoping.Page` (items and the total that matches);
details raise NotFound for ids of other practices or records that are not the actor's own.
Sessions, with their derived pipeline stage, live in services.sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.scoping import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    RowSelect,
    clamp_limit,
    get_visible,
    practice_scopes,
    visible,
)

OPEN_WORK_STATUSES = ("open", "acknowledged")
SEVERITY_ORDER = ("critical", "warning", "info")


def _page(
    session: Session,
    query: RowSelect,
    *,
    conditions: Sequence[ColumnElement[bool]],
    model: type[Any],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    rows = list(session.execute(query.limit(clamp_limit(limit)).offset(max(offset, 0))))
    return rows, total


def record_client_reads(
    session: Session, *, actor: Actor, entity: str, clients: Iterable[tuple[int, int]], reason: str = ""
) -> None:
    """One audit row per practice for this request, naming every client shown.

    ``clients`` are (practice_id, client_id) pairs; nothing is written when none was shown.
    """
    by_practice: dict[int, set[int]] = defaultdict(set)
    for practice_id, client_id in clients:
        by_practice[practice_id].add(client_id)
    for practice_id, client_ids in sorted(by_practice.items()):
        audit.record_read(
            session, actor=actor, practice_id=practice_id, entity=entity, client_ids=client_ids, reason=reason
        )


# --- clients --------------------------------------------------------------------------------


def list_clients(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    search: str = "",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[m.Client]:
    scopes = practice_scopes(actor, Permission.VIEW_CLIENTS, practice_id)
    conditions = [visible(m.Client, actor, scopes), m.Client.merged_into_id.is_(None)]
    if search:
        pattern = f"%{search.lower()}%"
        conditions.append(
            or_(func.lower(m.Client.last_name).like(pattern), func.lower(m.Client.first_name).like(pattern))
        )
    query = select(m.Client).where(*conditions).order_by(m.Client.last_name, m.Client.first_name, m.Client.id)
    rows, total = _page(session, query, conditions=conditions, model=m.Client, limit=limit, offset=offset)
    return Page([row[0] for row in rows], total)


def get_client(session: Session, *, actor: Actor, client_id: int) -> m.Client:
    return get_visible(session, m.Client, client_id, actor, Permission.VIEW_CLIENTS)


@dataclass(frozen=True)
class ClientBalance:
    client: m.Client
    patient_balance_cents: int
    insurance_balance_cents: int


def client_balances(
    session: Session, practice_id: int, client_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Per client, the balance of each A/R account, from the per-client balance rows."""
    if not client_ids:
        return {}
    query = select(m.LedgerBalance.scope_id, m.LedgerBalance.account, m.LedgerBalance.balance_cents).where(
        m.LedgerBalance.practice_id == practice_id,
        m.LedgerBalance.scope == BalanceScope.CLIENT.value,
        m.LedgerBalance.scope_id.in_(client_ids),
    )
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for client_id, account, cents in session.execute(query):
        result[client_id][account] = cents
    return result


def list_client_balances(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    owing_only: bool = True,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[ClientBalance]:
    """Clients with what they owe (front desk, client portal): patient balance first."""
    scopes = practice_scopes(actor, Permission.VIEW_CLIENT_BALANCE, practice_id)
    patient = (
        select(m.LedgerBalance.scope_id.label("client_id"), m.LedgerBalance.balance_cents.label("cents"))
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLIENT.value,
            m.LedgerBalance.account == Account.AR_PATIENT.value,
        )
        .subquery()
    )
    conditions: list[ColumnElement[bool]] = [
        visible(m.Client, actor, scopes),
        m.Client.merged_into_id.is_(None),
    ]
    if owing_only:
        conditions.append(patient.c.cents != 0)
    base = select(m.Client, func.coalesce(patient.c.cents, 0)).outerjoin(
        patient, patient.c.client_id == m.Client.id
    )
    total = (
        session.scalar(
            select(func.count())
            .select_from(m.Client)
            .outerjoin(patient, patient.c.client_id == m.Client.id)
            .where(*conditions)
        )
        or 0
    )
    query = (
        base.where(*conditions)
        .order_by(func.coalesce(patient.c.cents, 0).desc(), m.Client.last_name, m.Client.id)
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    )
    rows = list(session.execute(query))
    balances = client_balances(session, practice_id, [client.id for client, _ in rows])
    items = [
        ClientBalance(client, int(cents), balances.get(client.id, {}).get(Account.AR_INSURANCE.value, 0))
        for client, cents in rows
    ]
    return Page(items, total)


# --- providers and payers ----------------------------------------------------------------------


def list_providers(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[m.Provider]:
    scopes = practice_scopes(actor, Permission.VIEW_PROVIDERS, practice_id)
    conditions = [visible(m.Provider, actor, scopes)]
    query = (
        select(m.Provider)
        .where(*conditions)
        .order_by(m.Provider.last_name, m.Provider.first_name, m.Provider.id)
    )
    rows, total = _page(session, query, conditions=conditions, model=m.Provider, limit=limit, offset=offset)
    return Page([row[0] for row in rows], total)


def get_provider(session: Session, *, actor: Actor, provider_id: int) -> m.Provider:
    return get_visible(session, m.Provider, provider_id, actor, Permission.VIEW_PROVIDERS)


@dataclass(frozen=True)
class PracticePayerRow:
    """A payer of the global catalog as one practice has set it up."""

    payer: m.Payer
    settings: m.PracticePayer
    portal: m.InsurancePortal | None


def _payer_rows_query(conditions: Sequence[ColumnElement[bool]]) -> RowSelect:
    return (
        select(m.Payer, m.PracticePayer, m.InsurancePortal)
        .join(m.PracticePayer, m.PracticePayer.payer_id == m.Payer.id)
        .outerjoin(m.InsurancePortal, m.InsurancePortal.id == m.PracticePayer.portal_id)
        .where(*conditions)
    )


def list_payers(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[PracticePayerRow]:
    """The payers the actor's practices bill, one row per practice and payer."""
    scopes = practice_scopes(actor, Permission.VIEW_PAYERS, practice_id)
    conditions = [m.PracticePayer.practice_id.in_(list(scopes))]
    query = _payer_rows_query(conditions).order_by(m.Payer.name, m.PracticePayer.practice_id, m.Payer.id)
    rows, total = _page(
        session, query, conditions=conditions, model=m.PracticePayer, limit=limit, offset=offset
    )
    return Page([PracticePayerRow(*row) for row in rows], total)


def get_payer(session: Session, *, actor: Actor, payer_id: int) -> tuple[m.Payer, list[PracticePayerRow]]:
    """A payer with its settings in the actor's practices; NotFound when none of them bills it."""
    payer = session.get(m.Payer, payer_id)
    practice_ids = sorted(
        session.scalars(select(m.PracticePayer.practice_id).where(m.PracticePayer.payer_id == payer_id))
    )
    mine = [pid for pid in practice_ids if pid in actor.practice_ids]
    if payer is None or not mine:
        raise NotFound("not found")
    granted = [pid for pid in mine if actor.scope(pid, Permission.VIEW_PAYERS) > 0]
    if not granted:
        actor.require(mine[0], Permission.VIEW_PAYERS)  # raises PermissionDenied
    conditions = [m.PracticePayer.payer_id == payer_id, m.PracticePayer.practice_id.in_(granted)]
    rows = session.execute(_payer_rows_query(conditions).order_by(m.PracticePayer.practice_id))
    return payer, [PracticePayerRow(*row) for row in rows]


def list_portals(session: Session, *, actor: Actor, practice_id: int) -> list[m.InsurancePortal]:
    practice_scopes(actor, Permission.VIEW_PAYERS, practice_id)
    query = select(m.InsurancePortal).where(m.InsurancePortal.practice_id == practice_id)
    return list(session.scalars(query.order_by(m.InsurancePortal.name)))


# --- claims -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimFilters:
    """The claim tracker's search: any combination, all optional."""

    status: str | None = None
    client_search: str = ""  # part of the client's name
    provider_id: int | None = None
    payer_id: int | None = None
    since: date | None = None  # date of service from (inclusive)
    until: date | None = None  # ... to (inclusive)
    # A claim number, or a reference a submission returned (portal reference, clearinghouse id,
    # payer claim control number); matched exactly, ignoring case and surrounding blanks.
    reference: str = ""
    # A subquery of claim ids to keep: the claims behind a dashboard figure (services.kpis).
    claim_ids: Any = None


@dataclass(frozen=True)
class ClaimRow:
    claim: m.Claim
    client_name: str
    payer_name: str
    balance_cents: int
    provider_name: str = ""
    first_submitted_on: date | None = None
    last_channel: str = ""
    last_portal: str = ""

    def days_outstanding(self, today: date) -> int:
        """Days since the first submission; since the date of service when never sent."""
        since = self.first_submitted_on or self.claim.service_from_on
        return max((today - since).days, 0)


@dataclass(frozen=True)
class ClaimDetail:
    claim: m.Claim
    client_name: str
    payer_name: str
    provider_name: str
    lines: list[m.ClaimLine]
    submissions: list[m.Submission]
    events: list[m.ClaimEvent]
    balances: Mapping[str, int] = field(default_factory=dict)
    client: m.Client | None = None
    coverage: m.Coverage | None = None
    session_ids: list[int] = field(default_factory=list)

    @property
    def balance_cents(self) -> int:
        """What is still owed on the claim, by the payer and by the patient."""
        return sum(self.balances.get(a.value, 0) for a in (Account.AR_INSURANCE, Account.AR_PATIENT))


def _claim_balance_column() -> Any:
    ar_accounts = (Account.AR_INSURANCE.value, Account.AR_PATIENT.value)
    return (
        select(func.coalesce(func.sum(m.LedgerBalance.balance_cents), 0))
        .where(
            m.LedgerBalance.practice_id == m.Claim.practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.scope_id == m.Claim.id,
            m.LedgerBalance.account.in_(ar_accounts),
        )
        .scalar_subquery()
    )


def _claim_conditions(
    actor: Actor, practice_id: int | None, filters: ClaimFilters, *, with_status: bool = True
) -> list[ColumnElement[bool]]:
    scopes = practice_scopes(actor, Permission.VIEW_CLAIMS, practice_id)
    conditions = [visible(m.Claim, actor, scopes)]
    if with_status and filters.status:
        conditions.append(m.Claim.status == filters.status)
    if filters.client_search.strip():
        pattern = f"%{filters.client_search.strip().lower()}%"
        full = func.lower(m.Client.first_name + " " + m.Client.last_name)
        names = select(m.Client.id).where(
            or_(
                func.lower(m.Client.first_name).like(pattern),
                func.lower(m.Client.last_name).like(pattern),
                full.like(pattern),
            )
        )
        conditions.append(m.Claim.client_id.in_(names))
    if filters.provider_id is not None:
        conditions.append(
            or_(
                m.Claim.provider_id == filters.provider_id,
                m.Claim.performed_by_provider_id == filters.provider_id,
            )
        )
    if filters.payer_id is not None:
        conditions.append(m.Claim.payer_id == filters.payer_id)
    if filters.since is not None:
        conditions.append(m.Claim.service_from_on >= filters.since)
    if filters.until is not None:
        conditions.append(m.Claim.service_from_on <= filters.until)
    if filters.claim_ids is not None:
        conditions.append(m.Claim.id.in_(filters.claim_ids))
    reference = filters.reference.strip().lower()
    if reference:
        sent = select(m.Submission.claim_id).where(
            or_(
                func.lower(m.Submission.reference) == reference,
                func.lower(m.Submission.clearinghouse_reference) == reference,
                func.lower(m.Submission.payer_claim_control_number) == reference,
            )
        )
        conditions.append(
            or_(
                func.lower(m.Claim.number) == reference,
                func.lower(m.Claim.payer_claim_control_number) == reference,
                m.Claim.id.in_(sent),
            )
        )
    return conditions


def _claims_query(conditions: Sequence[ColumnElement[bool]]) -> RowSelect:
    return (
        select(
            m.Claim,
            m.Client.first_name,
            m.Client.last_name,
            m.Payer.name,
            _claim_balance_column(),
            m.Provider.first_name,
            m.Provider.last_name,
            m.Provider.credentials,
        )
        .join(m.Client, m.Client.id == m.Claim.client_id)
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .outerjoin(m.Provider, m.Provider.id == m.Claim.provider_id)
        .where(*conditions)
        .order_by(m.Claim.service_from_on.desc(), m.Claim.id.desc())
    )


def _claim_rows(session: Session, rows: Sequence[Any]) -> list[ClaimRow]:
    """Rows of :func:`_claims_query` with their submissions' first date and last channel."""
    sent = _submission_summaries(session, [row[0].id for row in rows])
    items = []
    for claim, first, last, payer, balance, p_first, p_last, credentials in rows:
        provider = f"{p_first} {p_last}{', ' + credentials if credentials else ''}" if p_first else ""
        first_on, channel, portal = sent.get(claim.id, (None, "", ""))
        items.append(
            ClaimRow(claim, f"{first} {last}", payer, int(balance), provider, first_on, channel, portal)
        )
    return items


def _submission_summaries(
    session: Session, claim_ids: Sequence[int]
) -> dict[int, tuple[date | None, str, str]]:
    """Per claim: the practice-local date of its first submission, and its last one's channel
    and portal."""
    if not claim_ids:
        return {}
    query = (
        select(
            m.Submission.claim_id,
            m.Submission.submitted_at,
            m.Submission.channel,
            m.InsurancePortal.name,
            m.Practice.timezone,
        )
        .join(m.Practice, m.Practice.id == m.Submission.practice_id)
        .outerjoin(m.InsurancePortal, m.InsurancePortal.id == m.Submission.portal_id)
        .where(m.Submission.claim_id.in_(list(claim_ids)))
        .order_by(m.Submission.claim_id, m.Submission.submitted_at, m.Submission.id)
    )
    found: dict[int, tuple[date | None, str, str]] = {}
    for claim_id, at, channel, portal, timezone in session.execute(query):
        first = found[claim_id][0] if claim_id in found else at.astimezone(ZoneInfo(timezone or "UTC")).date()
        found[claim_id] = (first, channel, portal or "")
    return found


def list_claims(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    status: str | None = None,
    filters: ClaimFilters | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[ClaimRow]:
    """A page of the claims the actor may see, newest date of service first."""
    filters = filters or ClaimFilters(status=status)
    conditions = _claim_conditions(actor, practice_id, filters)
    query = _claims_query(conditions)
    total = session.scalar(select(func.count()).select_from(m.Claim).where(*conditions)) or 0
    rows = list(session.execute(query.limit(clamp_limit(limit)).offset(max(offset, 0))))
    return Page(_claim_rows(session, rows), total)


def iter_claims(
    session: Session, *, actor: Actor, practice_id: int | None = None, filters: ClaimFilters
) -> Iterator[list[ClaimRow]]:
    """Every claim matching ``filters`` (all pages), a chunk at a time, in the list's order."""
    conditions = _claim_conditions(actor, practice_id, filters)
    query = _claims_query(conditions)
    offset = 0
    while True:
        rows = list(session.execute(query.limit(MAX_LIMIT).offset(offset)))
        if rows:
            yield _claim_rows(session, rows)
        if len(rows) < MAX_LIMIT:
            return
        offset += MAX_LIMIT


def claim_client_ids(
    session: Session, *, actor: Actor, practice_id: int | None = None, filters: ClaimFilters
) -> set[int]:
    """The clients of every claim matching ``filters`` (for the audit row of an export)."""
    conditions = _claim_conditions(actor, practice_id, filters)
    query = select(m.Claim.client_id).join(m.Client, m.Client.id == m.Claim.client_id).where(*conditions)
    return set(session.scalars(query.distinct()))


def claim_status_counts(
    session: Session, *, actor: Actor, practice_id: int | None = None, filters: ClaimFilters | None = None
) -> dict[str, int]:
    """How many claims match the search in each status (every status present), for the tabs."""
    conditions = _claim_conditions(actor, practice_id, filters or ClaimFilters(), with_status=False)
    counts = dict.fromkeys((str(s) for s in ClaimStatus), 0)
    query = select(m.Claim.status, func.count()).where(*conditions).group_by(m.Claim.status)
    counts.update({status: int(n) for status, n in session.execute(query)})
    return counts


def get_claim_detail(session: Session, *, actor: Actor, claim_id: int) -> ClaimDetail:
    claim = get_visible(session, m.Claim, claim_id, actor, Permission.VIEW_CLAIMS)
    client = session.get(m.Client, claim.client_id)
    payer = session.get(m.Payer, claim.payer_id)
    provider = session.get(m.Provider, claim.provider_id) if claim.provider_id else None
    lines = list(
        session.scalars(
            select(m.ClaimLine).where(m.ClaimLine.claim_id == claim.id).order_by(m.ClaimLine.line_number)
        )
    )
    submissions = list(
        session.scalars(
            select(m.Submission)
            .where(m.Submission.claim_id == claim.id)
            .order_by(m.Submission.submitted_at, m.Submission.id)
        )
    )
    events = list(
        session.scalars(
            select(m.ClaimEvent)
            .where(m.ClaimEvent.claim_id == claim.id)
            .order_by(m.ClaimEvent.created_at, m.ClaimEvent.id)
        )
    )
    balances: dict[str, int] = dict(
        session.execute(
            select(m.LedgerBalance.account, m.LedgerBalance.balance_cents).where(
                m.LedgerBalance.practice_id == claim.practice_id,
                m.LedgerBalance.scope == BalanceScope.CLAIM.value,
                m.LedgerBalance.scope_id == claim.id,
            )
        ).all()
    )
    session_ids = sorted(
        set(
            session.scalars(
                select(m.Charge.session_id)
                .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
                .where(m.ClaimLine.claim_id == claim.id)
            )
        )
    )
    return ClaimDetail(
        claim=claim,
        client_name=client.display_name if client else "",
        payer_name=payer.name if payer else "",
        provider_name=provider.display_name if provider else "",
        lines=lines,
        submissions=submissions,
        events=events,
        balances=balances,
        client=client,
        coverage=session.get(m.Coverage, claim.coverage_id) if claim.coverage_id else None,
        session_ids=session_ids,
    )


# --- payments and work items --------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    payment: m.Payment
    payer_name: str
    client_name: str


def list_payments(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[PaymentRow]:
    scopes = practice_scopes(actor, Permission.VIEW_FINANCIALS, practice_id)
    conditions = [visible(m.Payment, actor, scopes)]
    query = (
        select(m.Payment, m.Payer.name, m.Client.first_name, m.Client.last_name)
        .outerjoin(m.Payer, m.Payer.id == m.Payment.payer_id)
        .outerjoin(m.Client, m.Client.id == m.Payment.client_id)
        .where(*conditions)
        .order_by(m.Payment.received_on.desc(), m.Payment.id.desc())
    )
    rows, total = _page(session, query, conditions=conditions, model=m.Payment, limit=limit, offset=offset)
    items = [
        PaymentRow(payment, payer or "", f"{first} {last}" if first is not None else "")
        for payment, payer, first, last in rows
    ]
    return Page(items, total)


def work_item_conditions(actor: Actor, practice_id: int | None, kind: str) -> list[ColumnElement[bool]]:
    """The work items of one kind (alerts, import flags) the actor sees in the work queue."""
    scopes = practice_scopes(actor, Permission.VIEW_WORK_QUEUE, practice_id)
    return [visible(m.WorkItem, actor, scopes), m.WorkItem.kind == kind]


def load_work_item(
    session: Session, actor: Actor, work_item_id: int, *, kind: str | None = None, noun: str = "work item"
) -> m.WorkItem:
    """A work item of one of the actor's practices (of ``kind`` when given), read afresh; any
    other id is "not found" (named ``noun``)."""
    item = session.get(m.WorkItem, work_item_id, populate_existing=True)
    if (
        item is None
        or (kind is not None and item.kind != kind)
        or not (actor.is_system or item.practice_id in actor.practice_ids)
    ):
        raise NotFound(f"{noun} {work_item_id} not found")
    return item


def severity_rank() -> ColumnElement[int]:
    """A work item's severity as its place in :data:`SEVERITY_ORDER` (unknown ones last)."""
    return case(
        {name: index for index, name in enumerate(SEVERITY_ORDER)}, value=m.WorkItem.severity, else_=9
    )


def list_work_items(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    severity: str | None = None,
    owner_user_id: int | None = None,
    urgency: str | None = None,
    today: date | None = None,
    open_only: bool = True,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[m.WorkItem]:
    """Work items, most severe and most overdue first (``owner_user_id``: one person's;
    ``urgency``: one group of the queue as of ``today``, see :func:`urgency_condition`)."""
    scopes = practice_scopes(actor, Permission.VIEW_WORK_QUEUE, practice_id)
    conditions = [visible(m.WorkItem, actor, scopes)]
    if open_only:
        conditions.append(m.WorkItem.status.in_(OPEN_WORK_STATUSES))
    if severity:
        conditions.append(m.WorkItem.severity == severity)
    if owner_user_id is not None:
        conditions.append(m.WorkItem.owner_user_id == owner_user_id)
    if urgency is not None:
        assert today is not None, "an urgency group is relative to a day"
        conditions.append(urgency_condition(urgency, today))
    query = (
        select(m.WorkItem)
        .where(*conditions)
        .order_by(severity_rank(), m.WorkItem.due_on.is_(None), m.WorkItem.due_on, m.WorkItem.id)
    )
    rows, total = _page(session, query, conditions=conditions, model=m.WorkItem, limit=limit, offset=offset)
    return Page([row[0] for row in rows], total)


def urgency_condition(urgency: str, today: date) -> ColumnElement[bool]:
    """The queue's groups in SQL, as ``domain.followup_rules.urgency_of`` decides them for one
    item: "now" — critical, due today or before, or undated and more than information; "week"
    — due within the coming seven days; "on_track" — the rest."""
    due = m.WorkItem.due_on
    now = or_(
        m.WorkItem.severity == "critical",
        and_(due.is_not(None), due <= today),
        and_(due.is_(None), m.WorkItem.severity != "info"),
    )
    week = and_(~now, due.is_not(None), due <= today + timedelta(days=7))
    if urgency == "now":
        return now
    if urgency == "week":
        return week
    if urgency == "on_track":
        return and_(~now, ~week)
    raise InvalidInput(f"group: {urgency!r} is not now, week or on_track")


def open_work_by_severity(session: Session, *, actor: Actor, practice_id: int) -> dict[str, int]:
    scopes = practice_scopes(actor, Permission.VIEW_WORK_QUEUE, practice_id)
    query = (
        select(m.WorkItem.severity, func.count())
        .where(visible(m.WorkItem, actor, scopes), m.WorkItem.status.in_(OPEN_WORK_STATUSES))
        .group_by(m.WorkItem.severity)
    )
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    counts.update({severity: int(count) for severity, count in session.execute(query)})
    return counts


# --- ledger figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialBalanceLine:
    account: str
    debit_cents: int
    credit_cents: int


def trial_balance(session: Session, *, actor: Actor, practice_id: int) -> list[TrialBalanceLine]:
    """Every account's balance from the practice-wide balance rows (debit positive)."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    query = (
        select(m.LedgerBalance.account, m.LedgerBalance.balance_cents)
        .where(
            m.LedgerBalance.practice_id == practice_id, m.LedgerBalance.scope == BalanceScope.ACCOUNT.value
        )
        .order_by(m.LedgerBalance.account)
    )
    return [
        TrialBalanceLine(account, max(cents, 0), max(-cents, 0))
        for account, cents in session.execute(query)
        if cents
    ]


def account_balances(session: Session, *, practice_id: int, accounts: Sequence[Account]) -> dict[str, int]:
    """Practice-wide balances of some accounts (zero for an account never posted to)."""
    query = select(m.LedgerBalance.account, m.LedgerBalance.balance_cents).where(
        and_(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.ACCOUNT.value,
            m.LedgerBalance.account.in_([a.value for a in accounts]),
        )
    )
    balances = {a.value: 0 for a in accounts}
    balances.update({account: int(cents) for account, cents in session.execute(query)})
    return balances
