"""The demo practice: a year of a growing counseling group, built through the services.

`build_demo` writes "Riverbend Counseling Group": its billing entity and locations, nine
clinicians, about 250 clients with guarantors and coverages, the payers it bills (global
catalog, practice settings, portals, fee schedules, contracts), twelve months of sessions
growing from about 150 to about 500 a month, and the money history those sessions made:
claims, submissions, status changes by age (old claims paid, denied or appealed, recent ones
in flight, the newest still drafts), ledger postings for charges, insurance payments with
contractual adjustments, patient responsibility and patient payments, a few write-offs, and
the open work items a billing person would find on a Monday.

Reference data (practice, locations, clinicians, payers, portals, fee schedules, contracts,
logins) is written through the models. Clients and sessions come in the way a real
practice's do: the demo writes SimplePractice's "Client details" and "Client demographics"
reports, then for each week an appointment status export and a client attendance export
(`demo_exports`: the real headers, the later layout for the last months, the real quirks,
each week overlapping the last by a few days, and a few deliberate problems for the review
queue), and loads each through `imports.stage_import` and `imports.commit_import` as the
billing login. What the exports do not carry (guarantors, subscriber details, secondary
member ids, locations, place of service, diagnoses, modifiers, when notes were locked) the
demo then fills in as the practice's staff would. Canceled appointments carry no charge and
are not in the appointment export, so the demo has none. Billable sessions become claims
through the claims services as the billing login works them (`demo_money.ClaimFlow`: marked
ready, built, scrubbed, sent through each payer's route), except about 3% left behind on
purpose and listed in the summary (``never_submitted``) for the missing-claims check. Every
claim status change goes through `claims.transition_claim` and every amount through
`ledger.post_transaction`, so the demo's books obey the same invariants as real ones. The
alert rules run at the end, as of the demo's now.
Everything is drawn from one `random.Random(seed)`: the same seed and `today` give the same
practice. All people are invented (see `demo_data`).

The caller owns the transaction (the CLI runs it in one unit of work).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from revcycle.adapters.mail import Mailer, MemoryMailer
from revcycle.db import models as m
from revcycle.db.types import recording_at
from revcycle.domain.names import person_key_of
from revcycle.domain.npi import make_npi
from revcycle.domain.permissions import Role
from revcycle.services import appeals, assignment, campaigns, followup, information_requests, kpis
from revcycle.services import demo_data as d
from revcycle.services import demo_exports as x
from revcycle.services.actor import Actor, system_actor
from revcycle.services.alerts import run_alerts
from revcycle.services.demo_deposits import add_bank_deposits
from revcycle.services.demo_patient_payments import add_front_desk_payments
from revcycle.services.demo_payment_entry import add_paper_checks
from revcycle.services.monthly_report import seed_demo_monthly_report
from revcycle.services.reports_ops.productivity import seed_demo_compensation

__all__ = ["DemoSummary", "build_demo", "practice_exists"]

MONTHS = 12
FIRST_MONTH_SESSIONS = 150
LAST_MONTH_SESSIONS = 500
# Each weekly export reaches back this many days into the week before, as real ones do.
OVERLAP_DAYS = 3
# The last months' exports come in SimplePractice's later layout (note status, write-off).
LATER_LAYOUT_MONTHS = 4
# Routine flags on sessions older than this were worked in the review queue.
REVIEWED_AFTER_DAYS = 21
_NOTE_LABELS = {"locked": "LOCKED", "draft": "DRAFT", "none": "NO NOTE"}


@dataclass
class DemoSummary:
    """What the demo wrote, counted."""

    skipped: bool = False
    practice_id: int | None = None
    seed: int = 0
    today: date | None = None
    organizations: int = 0
    practices: int = 0
    service_locations: int = 0
    providers: int = 0
    users: int = 0
    payers: int = 0
    payer_aliases: int = 0
    insurance_portals: int = 0
    practice_payers: int = 0
    fee_schedules: int = 0
    payer_contracts: int = 0
    provider_enrollments: int = 0
    clients: int = 0
    guarantors: int = 0
    coverages: int = 0
    sessions: int = 0
    charges: int = 0
    claims: int = 0
    submissions: int = 0
    claim_events: int = 0
    denials: int = 0
    appeals: int = 0
    payments: int = 0
    ledger_transactions: int = 0
    postings: int = 0
    work_items: int = 0
    import_batches: int = 0
    import_flags: int = 0
    campaigns: int = 0
    queues: dict[str, int] = field(default_factory=dict)  # open work items per persona
    sessions_by_month: list[int] = field(default_factory=list)
    claims_by_status: dict[str, int] = field(default_factory=dict)
    # The claims pipeline: sessions marked ready, claims built, submissions per billing route,
    # scrub warnings overridden, and the billable sessions deliberately never submitted
    # (session id -> the stage each was left at: documented, ready or built).
    sessions_marked_ready: int = 0
    claims_built: int = 0
    scrub_overrides: int = 0
    submitted_by_route: dict[str, int] = field(default_factory=dict)
    never_submitted: dict[int, str] = field(default_factory=dict)
    # Billable sessions the services held back (session id -> why: a refusal to mark it ready,
    # or its claim's scrub error): none, unless a rule finds something in the demo's data.
    held_back: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0

    def flow_line(self) -> str:
        """The claims pipeline in one line."""
        routes = ", ".join(f"{route} {n:,}" for route, n in sorted(self.submitted_by_route.items()))
        left = Counter(self.never_submitted.values())
        stages = ", ".join(f"{stage} {left[stage]}" for stage in ("documented", "ready", "built"))
        return (
            f"claims flow: {self.sessions_marked_ready:,} sessions ready, {self.claims_built:,} claims "
            f"built ({self.scrub_overrides:,} scrub warnings overridden), submitted via {routes or 'none'}; "
            f"{len(self.never_submitted)} billable sessions deliberately never submitted ({stages})"
            + (f"; {len(self.held_back)} held back (refused or scrub errors)" if self.held_back else "")
        )

    def lines(self) -> list[str]:
        """The summary as `name: value` lines for the command line."""
        if self.skipped:
            return ["a practice already exists: nothing built (--if-empty)"]
        out = [f"practice id {self.practice_id}, seed {self.seed}, today {self.today}"]
        for name in (
            "organizations",
            "practices",
            "service_locations",
            "providers",
            "users",
            "payers",
            "payer_aliases",
            "insurance_portals",
            "practice_payers",
            "fee_schedules",
            "payer_contracts",
            "provider_enrollments",
            "clients",
            "guarantors",
            "coverages",
            "sessions",
            "charges",
            "claims",
            "submissions",
            "claim_events",
            "denials",
            "appeals",
            "payments",
            "ledger_transactions",
            "postings",
            "work_items",
            "import_batches",
            "import_flags",
            "campaigns",
        ):
            out.append(f"{name.replace('_', ' ')}: {getattr(self, name):,}")
        out.append("sessions by month: " + " ".join(str(n) for n in self.sessions_by_month))
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.claims_by_status.items()))
        out.append(f"claims by status: {statuses}")
        out.append(self.flow_line())
        out.append("queues on day one: " + ", ".join(f"{k} {v:,}" for k, v in self.queues.items()))
        out.append(f"built in {self.seconds:.1f} s")
        return out


def practice_exists(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(m.Practice)) != 0


def build_demo(
    session: Session,
    *,
    seed: int = 7,
    today: date | None = None,
    scale: float = 1.0,
    if_empty: bool = False,
    actor: Actor | None = None,
    mailer: Mailer | None = None,
) -> DemoSummary:
    """Build the demo practice in the caller's transaction and count what was written.

    ``scale`` shrinks the clients and sessions (tests use 0.05); clinicians, payers and
    logins stay whole. With ``if_empty``, nothing is done when any practice exists. Last
    month's report is mailed through ``mailer`` (kept in memory when none is given; the
    command passes the configured one, so `make run` leaves it in the outbox).
    """
    started = time.perf_counter()
    if if_empty and practice_exists(session):
        return DemoSummary(skipped=True, seed=seed)
    tz = ZoneInfo(d.PRACTICE_TIMEZONE)
    today = today or datetime.now(tz).date()
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
    builder = DemoBuilder(
        session, rng=rng, today=today, tz=tz, scale=scale, actor=actor or system_actor("demo"), mailer=mailer
    )
    summary = builder.build()
    summary.seed = seed
    summary.seconds = time.perf_counter() - started
    return summary


# --- helpers ------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def month_windows(today: date) -> list[tuple[date, date]]:
    """Twelve consecutive month-long windows (first day, last day), the last ending today."""
    return [
        (add_months(today, k - MONTHS) + timedelta(days=1), add_months(today, k - MONTHS + 1))
        for k in range(MONTHS)
    ]


def sessions_per_month(scale: float) -> list[int]:
    """Geometric growth from the first month's count to the last's."""
    ratio = (LAST_MONTH_SESSIONS / FIRST_MONTH_SESSIONS) ** (1 / (MONTHS - 1))
    counts = [round(FIRST_MONTH_SESSIONS * ratio**k * scale) for k in range(MONTHS)]
    return [max(count, 1) for count in counts]


def normalize_alias(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --- the builder --------------------------------------------------------------------------


@dataclass
class _ClientPlan:
    client: m.Client
    guarantor: m.Guarantor
    coverage: m.Coverage | None
    payer_key: str
    provider_index: int
    minor: bool
    diagnoses: list[str]
    start_month: int
    end_month: int
    visits_weight: float
    secondary: m.Coverage | None = None
    secondary_key: str = ""


@dataclass
class BuiltSession:
    """A session as written, with its charges and the client's plan (for the money history)."""

    row: m.ServiceSession
    charges: list[m.Charge]
    plan: _ClientPlan


@dataclass
class _SessionPlan:
    plan: _ClientPlan
    starts_at: datetime
    service_on: date
    telehealth: bool


class DemoBuilder:
    def __init__(
        self,
        session: Session,
        *,
        rng: random.Random,
        today: date,
        tz: ZoneInfo,
        scale: float,
        actor: Actor,
        mailer: Mailer | None = None,
    ) -> None:
        self.db = session
        self.rng = rng
        self.today = today
        self.tz = tz
        self.scale = scale
        self.actor = actor
        self.mailer: Mailer = mailer or MemoryMailer()
        self.windows = month_windows(today)
        self.end_of_today = datetime(today.year, today.month, today.day, 23, 59, tzinfo=tz).astimezone(UTC)
        # The demo's "now" is noon of `today` (not the wall clock, so a seed always builds the
        # same practice): the afternoon's appointments are still scheduled.
        self.now = datetime(today.year, today.month, today.day, 12, 0, tzinfo=tz).astimezone(UTC)
        self.summary = DemoSummary(today=today)
        self.payers: dict[str, m.Payer] = {}
        self.payer_seeds = {seed.key: seed for seed in d.PAYERS}
        self.practice_payers: dict[str, m.PracticePayer] = {}
        self.portals: dict[str, m.InsurancePortal] = {}
        self.providers: list[m.Provider] = []
        self.locations: list[m.ServiceLocation] = []
        self.fees: dict[str, dict[str, int]] = {}  # payer key (or "standard") -> code -> cents
        self.allowed: dict[str, dict[str, int]] = {}  # payer key -> code -> allowed cents
        self.clients: list[_ClientPlan] = []
        self.users: dict[str, m.User] = {}
        self.planted: dict[str, BuiltSession] = {}  # deliberate problem -> the session it is on
        self.batch_ids: list[int] = []

    # -- orchestration --

    def build(self) -> DemoSummary:
        """The practice as set up a year ago, then its year of work, each step written at the
        moment it happened (db.types.recording_at); what has no moment of its own is "now"."""
        opening = self.windows[0][0] - timedelta(days=2)
        with recording_at(datetime(opening.year, opening.month, opening.day, 9, tzinfo=self.tz)):
            self.practice = self._practice()
            self._locations()
            self._providers()
            self._payers()
            self._portals_and_settings()
            self._fee_schedules_and_contracts()
            self._enrollments()
            self._users()
            self._clients()
            self.db.flush()
        with recording_at(self.now):
            self._authorizations()
            sessions = self._sessions()
            self._money(sessions)
            front_desk = self._as("front_desk", Role.FRONT_DESK)
            add_front_desk_payments(self.db, practice_id=self.practice.id, actor=front_desk, today=self.today)
            billing = self._as("billing", Role.BILLING)
            add_paper_checks(self.db, practice_id=self.practice.id, actor=billing, today=self.today)
            add_bank_deposits(self.db, practice_id=self.practice.id, actor=billing, today=self.today)
            run_alerts(self.db, practice_id=self.practice.id, now=self.now)
            self._followup_rules()
            self._work_floor()
            self.db.flush()
        self._count()
        return self.summary

    def _as(self, key: str, role: Role) -> Actor:
        """The demo login ``key`` acting in the practice."""
        return Actor(
            self.users[key].id, {self.practice.id: frozenset({role})}, source_ip="127.0.0.1", label="demo"
        )

    def _followup_rules(self) -> None:
        """The practice's follow-up rules as an admin would set them: Horizon pays slowly in
        December (a quiet window around its year-end freeze) and is chased on its own terms;
        Medicaid plans get more grace; everyone else learns from their own payments."""
        admin = self._as("admin", Role.ADMIN)
        horizon = self.db.scalar(select(m.Payer.id).where(m.Payer.name.like("Horizon%")))
        changes = [
            followup.RuleChange("kind:medicaid", grace_days=10, repeat_days=21, reason="state plans: slow"),
        ]
        if horizon is not None:
            freeze = followup.QuietWindow(
                date(self.today.year, 12, 22), date(self.today.year, 12, 31), "year-end claims freeze"
            )
            changes += [
                followup.RuleChange(f"payer:{horizon}", expected_days=30, reason="first setting"),
                followup.RuleChange(
                    f"payer:{horizon}",
                    expected_days=25,
                    grace_days=3,
                    repeat_days=10,
                    quiet_windows=(freeze,),
                    reason="pays faster since the portal change; freezes at year end",
                ),
            ]
        for change in changes:
            followup.save_rule(self.db, actor=admin, practice_id=self.practice.id, change=change)

    def _work_floor(self) -> None:
        """Day one's queues, for each persona: the claims shared out by the assignment rules
        (the billing specialist leads the General team, agents of a billing floor hold the
        rest), a follow-up per claim waiting on its payer, appeals at every stage with their
        deadline alerts, requests to the therapist for the notes an appeal needs, the
        payer strategies with two campaigns measured from what happened since, the monthly
        collections goal, the compensation guide and the morning's KPI alerts, and last month's report in the
        director's mail."""
        admin, billing = self._as("admin", Role.ADMIN), self._as("billing", Role.BILLING)
        pid, today = self.practice.id, self.today
        assignment.seed_demo_assignment(self.db, admin, pid, today, lead_user_id=self.users["billing"].id)
        followup.rebuild(self.db, practice_id=pid, today=today)
        appeals.seed_demo_appeals(self.db, actor=billing, practice_id=pid, today=today)
        self._requests_to_the_therapist(billing)
        campaigns.seed_demo_strategies(self.db, admin, pid, today)
        kpis.seed_demo_kpis(self.db, admin, pid, today)  # the collections goal the dashboard measures
        seed_demo_compensation(self.db, admin, pid, today)  # the practice's compensation guide
        kpis.raise_kpi_alerts(self.db, practice_id=pid, today=today)  # the morning job's alerts
        self.summary.queues = self._queues()
        # last: the director's mail of last month's report (the outbox is written at once)
        seed_demo_monthly_report(self.db, admin, pid, today, mailer=self.mailer)

    def _requests_to_the_therapist(self, billing: Actor) -> None:
        """The therapist is asked for the progress notes and treatment plan of their claims
        under appeal (a draft waits for them), due within the week."""
        therapist = self.users["therapist"]
        drafts = self.db.scalars(
            select(m.Appeal.claim_id)
            .join(m.Claim, m.Claim.id == m.Appeal.claim_id)
            .where(m.Appeal.practice_id == self.practice.id, m.Appeal.status == "draft")
            .order_by(m.Appeal.id)
        ).all()
        for number, claim_id in enumerate(drafts[:2]):
            information_requests.ask(
                self.db,
                actor=billing,
                claim_id=claim_id,
                question="Progress notes and the current treatment plan, for the appeal letter",
                detail="The payer said the sessions were not medically necessary; the notes show they were.",
                due_on=self.today + timedelta(days=4 + 2 * number),
                today=self.today,
                owner_user_id=therapist.id,
            )

    def _queues(self) -> dict[str, int]:
        """Open work items per persona: owned by the login, or addressed to its role."""
        open_items = (m.WorkItem.practice_id == self.practice.id, m.WorkItem.status != "resolved")
        found = {}
        for key in ("billing", "director", "therapist"):
            owner = m.WorkItem.owner_user_id == self.users[key].id
            if key == "director":
                owner = owner | (m.WorkItem.owner_role == "director")
            found[f"{key}@"] = self.db.scalar(select(func.count()).where(*open_items, owner)) or 0
        found["agents"] = (
            self.db.scalar(
                select(func.count()).where(
                    *open_items,
                    m.WorkItem.owner_user_id.is_not(None),
                    m.WorkItem.owner_user_id.not_in([u.id for u in self.users.values()]),
                )
            )
            or 0
        )
        found["team queues"] = (
            self.db.scalar(
                select(func.count()).where(
                    *open_items, m.WorkItem.owner_team_id.is_not(None), m.WorkItem.owner_user_id.is_(None)
                )
            )
            or 0
        )
        return found

    def add_and_flush(self, rows: Sequence[object]) -> None:
        self.db.add_all(rows)
        self.db.flush()

    # -- practice, locations, providers --

    def _practice(self) -> m.Practice:
        line1, line2, city, state, postal = d.PRACTICE_ADDRESS
        organization = m.Organization(name=d.ORGANIZATION_NAME, kind="practice")
        practice = m.Practice(
            organization=organization,
            name=d.PRACTICE_NAME,
            timezone=d.PRACTICE_TIMEZONE,
            legal_name=d.PRACTICE_LEGAL_NAME,
            tax_id=d.PRACTICE_TAX_ID,
            group_npi=make_npi(d.PRACTICE_NPI_STEM),
            taxonomy_code=d.PRACTICE_TAXONOMY,
            address_line1=line1,
            address_line2=line2,
            city=city,
            state=state,
            postal_code=postal,
            phone=d.PRACTICE_PHONE,
            settings={"demo": True},
        )
        self.add_and_flush([practice])
        self.summary.practice_id = practice.id
        return practice

    def _locations(self) -> None:
        for seed in d.LOCATIONS:
            line1, city, state, postal = seed.address
            self.locations.append(
                m.ServiceLocation(
                    practice_id=self.practice.id,
                    name=seed.name,
                    place_of_service=seed.place_of_service,
                    npi=self.practice.group_npi,
                    address_line1=line1,
                    city=city,
                    state=state,
                    postal_code=postal,
                )
            )
        self.add_and_flush(self.locations)

    def _providers(self) -> None:
        for seed in d.CLINICIANS:
            self.providers.append(
                m.Provider(
                    practice_id=self.practice.id,
                    first_name=seed.first_name,
                    last_name=seed.last_name,
                    credentials=seed.credentials,
                    npi=make_npi(seed.npi_stem),
                    taxonomy_code=seed.taxonomy_code,
                )
            )
        self.add_and_flush(self.providers)
        for seed, provider in zip(d.CLINICIANS, self.providers, strict=True):
            if seed.supervised_by is not None:
                provider.supervising_provider_id = self.providers[seed.supervised_by].id
        self.db.flush()

    # -- payers --

    def _payers(self) -> None:
        """The global catalog: reuse a payer already there (same name and EDI id)."""
        for seed in d.PAYERS:
            payer = self.db.scalars(
                select(m.Payer).where(m.Payer.name == seed.name, m.Payer.edi_payer_id == seed.edi_payer_id)
            ).first()
            if payer is None:
                payer = m.Payer(name=seed.name, edi_payer_id=seed.edi_payer_id, kind=seed.kind)
                self.add_and_flush([payer])
            self.payers[seed.key] = payer
            self._aliases(payer, (seed.name, *seed.aliases))

    def _aliases(self, payer: m.Payer, names: Sequence[str]) -> None:
        wanted = {normalize_alias(name): name for name in names}
        taken = set(
            self.db.scalars(select(m.PayerAlias.normalized).where(m.PayerAlias.normalized.in_(wanted)))
        )
        rows = [
            m.PayerAlias(payer_id=payer.id, alias=alias, normalized=key)
            for key, alias in wanted.items()
            if key not in taken
        ]
        self.add_and_flush(rows)

    def _portals_and_settings(self) -> None:
        for seed in d.PORTALS:
            self.portals[seed.key] = m.InsurancePortal(
                practice_id=self.practice.id,
                name=seed.name,
                url=seed.url,
                billing_route="portal",
                login_instructions=seed.login_instructions,
            )
        self.add_and_flush(list(self.portals.values()))
        for payer in d.PAYERS:
            portal = self.portals[payer.portal] if payer.portal else None
            self.practice_payers[payer.key] = m.PracticePayer(
                practice_id=self.practice.id,
                payer_id=self.payers[payer.key].id,
                billing_route=payer.route,
                portal_id=portal.id if portal else None,
                timely_filing_days=payer.timely_filing_days,
                appeal_days=payer.appeal_days,
                requires_prior_auth=payer.key in d.PRIOR_AUTH_PAYERS,
                # The associate's sessions bill under her supervisor where the plan allows it.
                supervised_billing="supervisor"
                if payer.kind not in {"medicare", "self_pay"}
                else "not_allowed",
            )
        self.add_and_flush(list(self.practice_payers.values()))

    def _fee_schedules_and_contracts(self) -> None:
        start = add_months(self.today, -MONTHS - 1).replace(day=1)
        self.fees["standard"] = dict(d.STANDARD_FEES)
        self.fees["standard"][d.NO_SHOW_CODE] = d.NO_SHOW_FEE_CENTS
        self._fee_schedule("Standard fees", None, self.fees["standard"], start)
        for key, ratio in d.PAYER_FEE_RATIOS.items():
            self.fees[key] = {
                code: _scaled_to_whole_dollars(cents, ratio) for code, cents in d.STANDARD_FEES.items()
            }
            self._fee_schedule(
                f"{self.payers[key].name} fee schedule", self.payers[key].id, self.fees[key], start
            )
        for seed in d.PAYERS:
            if seed.kind == "self_pay":
                continue
            base = self.fees.get(seed.key, d.STANDARD_FEES)
            rates = {
                code: _scaled_to_whole_dollars(cents, seed.allowed_ratio)
                for code, cents in d.STANDARD_FEES.items()
            }
            if seed.key in d.PAYER_FEE_RATIOS:
                rates = dict(base)  # government payers allow their own schedule
            self.allowed[seed.key] = rates
            contract = m.PayerContract(
                practice_id=self.practice.id,
                payer_id=self.payers[seed.key].id,
                number=f"RCG-{seed.key.upper()[:6]}-{start.year}",
                starts_on=start,
                # Cigna's contract runs out in 40 days, not yet renewed: the expiry alert shows.
                ends_on=self.today + timedelta(days=40) if seed.key == "cigna" else None,
            )
            self.add_and_flush([contract])
            self.add_and_flush(
                [
                    m.PayerContractRate(
                        practice_id=self.practice.id,
                        contract_id=contract.id,
                        procedure_code=code,
                        allowed_cents=cents,
                    )
                    for code, cents in rates.items()
                ]
            )
            self.practice_payers[seed.key].contract_id = contract.id
        self.db.flush()

    def _fee_schedule(self, name: str, payer_id: int | None, rates: dict[str, int], start: date) -> None:
        schedule = m.FeeSchedule(
            practice_id=self.practice.id, name=name, payer_id=payer_id, effective_on=start
        )
        self.add_and_flush([schedule])
        self.add_and_flush(
            [
                m.FeeScheduleRate(
                    practice_id=self.practice.id,
                    fee_schedule_id=schedule.id,
                    procedure_code=code,
                    amount_cents=cents,
                )
                for code, cents in rates.items()
            ]
        )

    def _enrollments(self) -> None:
        start = add_months(self.today, -MONTHS - 6).replace(day=1)
        rows = []
        for index, provider in enumerate(self.providers):
            supervised = d.CLINICIANS[index].supervised_by is not None
            for seed in d.PAYERS:
                if seed.kind == "self_pay":
                    continue
                # The associate cannot bill Medicare under their own NPI.
                in_network = not (supervised and seed.kind == "medicare")
                rows.append(
                    m.ProviderEnrollment(
                        practice_id=self.practice.id,
                        provider_id=provider.id,
                        payer_id=self.payers[seed.key].id,
                        in_network=in_network,
                        effective_on=start,
                        requires_supervisor=supervised,
                    )
                )
        self.add_and_flush(rows)

    # -- clients --

    def _clients(self) -> None:
        """Plan the clients, import them from the two client reports, then finish intake.

        The reports give identity, address, date of birth, sex and the primary insurance with
        its member id (the import creates that coverage); the guarantor and the subscriber's
        details are what the front desk enters from the intake paperwork.
        """
        count = max(12, round(250 * self.scale))
        names: set[str] = set()
        plans = [self._client_plan(number, names) for number in range(1, count + 1)]
        lines = [self._client_line(plan) for plan in plans]
        intake_day = self.windows[0][0] - timedelta(days=1)
        self._import("client-details.csv", x.client_details_report(lines), uploaded_on=intake_day)
        self._import("client-demographics.csv", x.client_demographics_report(lines), uploaded_on=intake_day)
        imported = {
            c.name_key: c
            for c in self.db.scalars(select(m.Client).where(m.Client.practice_id == self.practice.id))
        }
        coverages = self._coverages_by_client_and_payer()
        for plan in plans:
            row = imported[person_key_of(plan.client.first_name, plan.client.last_name)]
            row.external_ids = dict(plan.client.external_ids)
            plan.client = row
            plan.guarantor.client_id = row.id
            if plan.coverage is not None:
                plan.coverage = self._adopt_coverage(coverages, row.id, plan.coverage)
        self.add_and_flush([p.guarantor for p in plans])
        plans[0].client.user_id = self.users["client"].id
        self.db.flush()
        self.clients = plans

    def _authorizations(self) -> None:
        """Clients of payers that require prior authorization have one from their first visit,
        renewed each year, so their claims carry its number."""
        rows = []
        for plan in self.clients:
            if plan.coverage is None or plan.payer_key not in d.PRIOR_AUTH_PAYERS:
                continue
            starts_on = self.windows[plan.start_month][0] - timedelta(days=self.rng.randint(3, 14))
            while starts_on <= self.today:
                ends_on = add_months(starts_on, 12) - timedelta(days=1)
                number = f"{d.AUTHORIZATION_PREFIXES[plan.payer_key]}{self.rng.randint(10**7, 10**8 - 1)}"
                rows.append(
                    m.Authorization(
                        practice_id=self.practice.id,
                        client_id=plan.client.id,
                        coverage_id=plan.coverage.id,
                        number=number,
                        visits_allowed=60,
                        starts_on=starts_on,
                        ends_on=ends_on,
                    )
                )
                starts_on = ends_on + timedelta(days=1)
        self.add_and_flush(rows)

    def _coverages_by_client_and_payer(self) -> dict[tuple[int, int], m.Coverage]:
        rows = self.db.scalars(
            select(m.Coverage).where(m.Coverage.practice_id == self.practice.id).order_by(m.Coverage.id)
        )
        found: dict[tuple[int, int], m.Coverage] = {}
        for row in rows:
            found.setdefault((row.client_id, row.payer_id), row)
        return found

    def _adopt_coverage(
        self, coverages: dict[tuple[int, int], m.Coverage], client_id: int, planned: m.Coverage
    ) -> m.Coverage:
        """The coverage an import made for this client and payer, completed from the plan
        (subscriber, group, dates, copay; the member id where the import had none)."""
        row = coverages.get((client_id, planned.payer_id))
        if row is None:  # no export named it: the front desk enters it
            planned.client_id = client_id
            self.add_and_flush([planned])
            return planned
        for name in (
            "group_number",
            "priority",
            "relationship_to_subscriber",
            "subscriber_first_name",
            "subscriber_last_name",
            "subscriber_date_of_birth",
            "subscriber_sex",
            "effective_on",
            "copay_cents",
        ):
            value = getattr(planned, name)
            if value is not None:  # an unsaved plan has no column defaults: keep the row's
                setattr(row, name, value)
        if not row.member_id:
            row.member_id = planned.member_id
        return row

    def _client_line(self, plan: _ClientPlan) -> x.ClientLine:
        client, guarantor = plan.client, plan.guarantor
        assert client.date_of_birth is not None
        clinician = d.CLINICIANS[plan.provider_index]
        age = (self.today - client.date_of_birth).days // 365
        return x.ClientLine(
            name=f"{client.first_name} {client.last_name}",
            minor=plan.minor,
            added_on=self.windows[plan.start_month][0] - timedelta(days=self.rng.randint(1, 20)),
            primary_clinician=f"{clinician.first_name} {clinician.last_name}",
            last_appointment_on=None,
            next_appointment_on=None,
            address=client.address_line1,
            city=client.city,
            state=client.state,
            zip_code=client.postal_code,
            phone=client.phone,
            email=client.email,
            contact_name=f"{guarantor.first_name} {guarantor.last_name}" if plan.minor else "",
            contact_phone=guarantor.phone if plan.minor else "",
            contact_email=guarantor.email if plan.minor else "",
            primary_insurance=d.SIMPLEPRACTICE_PAYER_LABELS[plan.payer_key] if plan.coverage else None,
            member_id=plan.coverage.member_id if plan.coverage else None,
            active=plan.end_month >= MONTHS,
            date_of_birth=client.date_of_birth,
            age=age,
            sex=client.sex,
        )

    def _client_plan(self, number: int, names: set[str]) -> _ClientPlan:
        rng = self.rng
        sex = rng.choice("FFFM")  # counseling practices see more women
        # Clients are matched by name: the practice has no two clients of the same name.
        while True:
            first = rng.choice(d.FIRST_NAMES_F if sex == "F" else d.FIRST_NAMES_M)
            last = rng.choice(d.LAST_NAMES)
            if person_key_of(first, last) not in names:
                names.add(person_key_of(first, last))
                break
        minor = rng.random() < 0.18
        age = rng.randint(6, 17) if minor else int(rng.triangular(18, 82, 34))
        dob = self.today - timedelta(days=age * 365 + rng.randint(0, 364))
        town = rng.choices(d.TOWNS, weights=[t.weight for t in d.TOWNS])[0]
        street = f"{rng.randint(2, 980)} {rng.choice(d.STREET_NAMES)}"
        phone = f"({town.area_code}) 555-01{rng.randint(0, 99):02d}"
        client = m.Client(
            practice_id=self.practice.id,
            first_name=first,
            last_name=last,
            date_of_birth=dob,
            sex=sex,
            address_line1=street,
            city=town.city,
            state=town.state,
            postal_code=town.postal_code,
            phone=phone,
            email="" if minor else f"{first.lower()}.{last.lower()}{number}@example.com",
            external_ids={"simplepractice": f"SP-{100000 + number}"},
        )
        guarantor = self._guarantor(client, minor, number)
        payer_key = self._payer_for(age)
        coverage = self._coverage(client, guarantor, payer_key, minor) if payer_key != "self_pay" else None
        provider_index = self._provider_for(minor, payer_key)
        pool = d.CHILD_DIAGNOSES if minor else d.ADULT_DIAGNOSES
        diagnoses = [_weighted(rng, pool)]
        if rng.random() < 0.3:
            second = _weighted(rng, pool)
            if second != diagnoses[0]:
                diagnoses.append(second)
        # Growth: later months bring more new clients; some clients finish therapy.
        start_month = min(MONTHS - 1, int(rng.triangular(0, MONTHS, MONTHS * 0.75)))
        if number <= max(3, round(0.2 * 250 * self.scale)):
            start_month = 0  # the practice's original caseload
        end_month = MONTHS if rng.random() < 0.8 else rng.randint(start_month + 2, MONTHS + 1)
        weight = rng.choice((1.0, 1.0, 0.6, 0.35))  # weekly, weekly, every other week, monthly
        plan = _ClientPlan(
            client,
            guarantor,
            coverage,
            payer_key,
            provider_index,
            minor,
            diagnoses,
            start_month,
            end_month,
            weight,
        )
        self._secondary(plan)
        return plan

    def _guarantor(self, client: m.Client, minor: bool, number: int) -> m.Guarantor:
        if not minor:
            return m.Guarantor(
                practice_id=self.practice.id,
                relationship_to_client="self",
                first_name=client.first_name,
                last_name=client.last_name,
                address_line1=client.address_line1,
                city=client.city,
                state=client.state,
                postal_code=client.postal_code,
                phone=client.phone,
                email=client.email,
            )
        parent_sex = self.rng.choice("FFM")
        parent = self.rng.choice(d.FIRST_NAMES_F if parent_sex == "F" else d.FIRST_NAMES_M)
        return m.Guarantor(
            practice_id=self.practice.id,
            relationship_to_client="parent",
            first_name=parent,
            last_name=client.last_name,
            address_line1=client.address_line1,
            city=client.city,
            state=client.state,
            postal_code=client.postal_code,
            phone=client.phone,
            email=f"{parent.lower()}.{client.last_name.lower()}{number}@example.com",
        )

    def _payer_for(self, age: int) -> str:
        if self.rng.random() < 0.08:
            return "self_pay"
        if age >= 65:
            return "medicare" if self.rng.random() < 0.85 else "aetna"
        insured = [s for s in d.PAYERS if s.share and s.key != "medicare"]
        return self.rng.choices([s.key for s in insured], weights=[s.share for s in insured])[0]

    def _coverage(self, client: m.Client, guarantor: m.Guarantor, payer_key: str, minor: bool) -> m.Coverage:
        seed = self.payer_seeds[payer_key]
        subscriber_dob = client.date_of_birth
        if minor:
            subscriber_dob = self.today - timedelta(days=self.rng.randint(30, 52) * 365)
        assert subscriber_dob is not None
        return m.Coverage(
            practice_id=self.practice.id,
            payer_id=self.payers[payer_key].id,
            member_id=f"{seed.member_prefix}{self.rng.randint(10**8, 10**9 - 1)}",
            group_number=""
            if seed.kind in {"medicare", "medicaid"}
            else f"G{self.rng.randint(10000, 99999)}",
            priority="primary",
            relationship_to_subscriber="child" if minor else "self",
            subscriber_first_name=guarantor.first_name,
            subscriber_last_name=guarantor.last_name,
            subscriber_date_of_birth=subscriber_dob,
            subscriber_sex="U" if minor else client.sex,
            effective_on=add_months(self.today, -MONTHS - self.rng.randint(1, 36)).replace(day=1),
            copay_cents=self.rng.choice(seed.copay_cents),
        )

    def _secondary(self, plan: _ClientPlan) -> None:
        """About one insured client in ten has a second plan (a spouse's, or a Medigap).

        The appointment exports name it (Secondary Insurance) and the import creates the
        coverage; its member id and subscriber come from the intake paperwork afterwards."""
        if plan.coverage is None or self.rng.random() >= 0.11:
            return
        key = "horizon" if plan.payer_key != "horizon" else "aetna"
        seed = self.payer_seeds[key]
        primary = plan.coverage
        plan.secondary_key = key
        plan.secondary = m.Coverage(
            practice_id=self.practice.id,
            payer_id=self.payers[key].id,
            member_id=f"{seed.member_prefix}{self.rng.randint(10**8, 10**9 - 1)}",
            group_number=f"G{self.rng.randint(10000, 99999)}",
            priority="secondary",
            relationship_to_subscriber=primary.relationship_to_subscriber,
            subscriber_first_name=primary.subscriber_first_name,
            subscriber_last_name=primary.subscriber_last_name,
            subscriber_date_of_birth=primary.subscriber_date_of_birth,
            subscriber_sex=primary.subscriber_sex,
            effective_on=primary.effective_on,
        )

    def _provider_for(self, minor: bool, payer_key: str) -> int:
        weights = [3 if d.CLINICIANS[i].does_family and minor else 2 for i in range(len(d.CLINICIANS))]
        # The associate carries a smaller caseload, and no Medicare clients: Medicare pays
        # neither a pre-licensed counselor nor, for one, their supervisor.
        weights[-1] = 0 if self.payer_seeds[payer_key].kind == "medicare" else 1
        return self.rng.choices(range(len(d.CLINICIANS)), weights=weights)[0]

    # -- users --

    def _users(self) -> None:
        from revcycle.services.auth import create_user

        for login in d.DEMO_LOGINS:
            existing = self.db.scalars(select(m.User).where(m.User.email == login.email)).first()
            if existing is None:
                user = create_user(
                    self.db,
                    actor=self.actor,
                    email=login.email,
                    full_name=login.full_name,
                    password=d.DEMO_PASSWORD,
                    practice_id=self.practice.id,
                    role=login.role,
                )
            else:  # a second demo practice in the same database: same logins, new membership
                user = existing
                self.add_and_flush(
                    [m.Membership(user_id=user.id, practice_id=self.practice.id, role=login.role)]
                )
            self.users[login.role if login.email != "director@demo.test" else "director"] = user
        self.providers[0].user_id = self.users["therapist"].id
        self.db.flush()
        self.importer = self._as("billing", Role.BILLING)

    # -- imports --

    def _import(self, filename: str, data: bytes, *, uploaded_on: date) -> m.ImportBatch:
        """Stage and commit one file as the billing login, as a person would upload it: at
        eight in the morning of ``uploaded_on`` (or the demo's "now", whichever is earlier)."""
        from revcycle.services.imports.batches import commit_import, stage_import

        day = uploaded_on
        morning = datetime(day.year, day.month, day.day, 8, tzinfo=self.tz).astimezone(UTC)
        with recording_at(min(morning, self.now)):
            batch = stage_import(
                self.db, actor=self.importer, practice_id=self.practice.id, filename=filename, data=data
            )
            batch = commit_import(self.db, actor=self.importer, batch_id=batch.id)
            self.db.flush()
        self.batch_ids.append(batch.id)
        return batch

    # -- sessions --

    def _sessions(self) -> list[BuiltSession]:
        """Plan the year's sessions, import them week by week, and return them as imported.

        The plan is held in unsaved model objects; each week's exports are written from them
        and imported (the appointment export makes the sessions and charges, the attendance
        export sets show / no-show / late cancel and durations), and the sessions are then
        completed with what neither export carries (location, diagnoses, modifiers)."""
        plans = self._session_plans()
        plans.sort(key=lambda p: (p.starts_at, p.plan.client.id))
        first_seen: set[int] = set()
        planned: list[BuiltSession] = []
        for plan in plans:
            intake = plan.plan.client.id not in first_seen
            first_seen.add(plan.plan.client.id)
            row, charges = self._session(plan, intake)
            planned.append(BuiltSession(row, charges, plan.plan))
        self._plant_problems(planned)
        by_day: dict[date, list[BuiltSession]] = {}
        for b in planned:
            by_day.setdefault(b.row.service_on, []).append(b)
        later_from = self.windows[MONTHS - LATER_LAYOUT_MONTHS][0]
        adopted: set[int] = set()
        for number, (covers_from, covers_to) in enumerate(self._export_weeks(), start=1):
            days = [covers_from + timedelta(days=n) for n in range((covers_to - covers_from).days + 1)]
            listed = [b for day in days for b in by_day.get(day, [])]
            if not listed:
                continue
            lines = [line for b in listed for line in self._export_lines(b)]
            data = x.appointment_export(lines, later=covers_from >= later_from)
            name = f"appointment-status-{number:02d}-{covers_from:%Y%m%d}-{covers_to:%Y%m%d}.csv"
            uploaded_on = covers_to + timedelta(days=1)  # the morning after the week's last day
            self._import(name, data, uploaded_on=uploaded_on)
            happened = [b for b in listed if b.row.starts_at <= self.now]
            if happened:
                attendance = x.attendance_export([self._attendance_line(b) for b in happened])
                self._import(
                    f"attendance-{number:02d}-{covers_from:%Y%m%d}-{covers_to:%Y%m%d}.csv",
                    attendance,
                    uploaded_on=uploaded_on,
                )
            self._complete_sessions([b for b in listed if id(b) not in adopted])
            adopted.update(id(b) for b in listed)
        self._complete_secondaries()
        self._review_old_flags()
        return self._as_imported(planned)

    def _export_weeks(self) -> list[tuple[date, date]]:
        """(first day, last day) of each weekly export; each reaches back into the last week."""
        weeks: list[tuple[date, date]] = []
        start = self.windows[0][0]
        while start <= self.today:
            end = min(start + timedelta(days=6), self.today)
            weeks.append((start - timedelta(days=OVERLAP_DAYS) if weeks else start, end))
            start += timedelta(days=7)
        return weeks

    def _plant_problems(self, planned: list[BuiltSession]) -> None:
        """A few rows the review queue should catch, on sessions drawn from the seed."""
        rng = self.rng
        recent = self.windows[MONTHS - 3][0]

        def pick(test: Callable[[BuiltSession], bool]) -> BuiltSession | None:
            taken = [id(b) for b in self.planted.values()]
            found = [b for b in planned if test(b) and id(b) not in taken]
            return rng.choice(found) if found else None

        def insured_show(b: BuiltSession) -> bool:
            return (
                b.plan.coverage is not None
                and b.row.appointment_status == "show"
                and b.row.service_on >= recent
                and b.row.starts_at <= self.now
                and all(not c.patient_only for c in b.charges)
            )

        # An insurance the practice has never billed, typed in for one appointment.
        if chosen := pick(insured_show):
            self.planted["unknown_payer"] = chosen
        # A billable code with the client's insurance missing from the appointment.
        if chosen := pick(insured_show):
            self.planted["no_insurance"] = chosen
        # The same line exported twice.
        if chosen := pick(lambda b: b.row.service_on >= recent and bool(b.charges)):
            self.planted["duplicate"] = chosen
        # A session too short or long for its code (the attendance export's times say so).
        bands = {"90832": 44, "90834": 58, "90837": 45}
        chosen = pick(
            lambda b: (
                b.row.service_on >= recent
                and b.row.starts_at <= self.now
                and b.row.appointment_status == "show"
                and len(b.charges) == 1
                and b.charges[0].procedure_code in bands
            )
        )
        if chosen:
            chosen.row.duration_minutes = bands[chosen.charges[0].procedure_code]
            self.planted["duration"] = chosen

    def _export_lines(self, built: BuiltSession) -> list[x.AppointmentLine]:
        """The export's lines for one session: one per charge, in SimplePractice's terms."""
        row, plan = built.row, built.plan
        clinician = d.CLINICIANS[plan.provider_index]
        primary = d.SIMPLEPRACTICE_PAYER_LABELS[plan.payer_key] if plan.coverage is not None else None
        secondary = d.SIMPLEPRACTICE_PAYER_LABELS[plan.secondary_key] if plan.secondary is not None else None
        if built is self.planted.get("unknown_payer"):
            primary = d.UNKNOWN_PAYER_LABEL
        if built is self.planted.get("no_insurance"):
            primary = secondary = None
        future = row.starts_at > self.now
        note = None if row.appointment_status != "show" or future else _NOTE_LABELS[row.note_status]
        copay = plan.coverage.copay_cents if plan.coverage is not None else 0
        lines = []
        for charge in built.charges:
            insured = primary is not None and not charge.patient_only
            client_cents = min(copay, charge.fee_cents) if insured else charge.fee_cents
            copay = 0 if insured else copay  # the copay is due once per session
            insurance_cents = charge.fee_cents - client_cents if insured else 0
            lines.append(
                x.AppointmentLine(
                    service_at=row.starts_at.astimezone(self.tz).replace(tzinfo=None),
                    client=f"{plan.client.first_name} {plan.client.last_name}",
                    clinician=f"{clinician.first_name} {clinician.last_name}",
                    code=charge.procedure_code,
                    primary=primary if not charge.patient_only else None,
                    secondary=secondary if not charge.patient_only else None,
                    fee_cents=charge.fee_cents,
                    units=1,
                    client_status="UNINVOICED" if client_cents else "NO CHARGE",
                    client_charge_cents=client_cents,
                    client_uninvoiced_cents=client_cents,
                    client_paid_cents=0,
                    client_unpaid_cents=0,
                    insurance_status=("UNBILLED" if future else "PENDING") if insured else None,
                    insurance_charge_cents=insurance_cents,
                    insurance_paid_cents=0,
                    insurance_unpaid_cents=insurance_cents,
                    note_status=note,
                )
            )
        if built is self.planted.get("duplicate"):
            lines.append(lines[-1])
        return lines

    def _attendance_line(self, built: BuiltSession) -> x.AttendanceLine:
        row, clinician = built.row, d.CLINICIANS[built.plan.provider_index]
        return x.AttendanceLine(
            starts_at=row.starts_at.astimezone(self.tz).replace(tzinfo=None),
            minutes=row.duration_minutes or 0,
            client=f"{built.plan.client.first_name} {built.plan.client.last_name}",
            clinician=f"{clinician.first_name} {clinician.last_name}",
            code=built.charges[0].procedure_code,
            location=self.locations[1 if row.place_of_service in {"02", "10"} else 0].name,
            status=row.appointment_status,
        )

    def _imported_sessions(self, first: datetime, last: datetime) -> dict[tuple[int, int, datetime], int]:
        rows = self.db.execute(
            select(
                m.ServiceSession.id,
                m.ServiceSession.client_id,
                m.ServiceSession.provider_id,
                m.ServiceSession.starts_at,
            ).where(
                m.ServiceSession.practice_id == self.practice.id,
                m.ServiceSession.starts_at.between(first, last),
            )
        )
        return {(c, p, _utc(at)): sid for sid, c, p, at in rows}

    def _complete_sessions(self, listed: list[BuiltSession]) -> None:
        """Fill in what the export does not say about the sessions it created."""
        if not listed:
            return
        found = self._imported_sessions(
            min(b.row.starts_at for b in listed), max(b.row.starts_at for b in listed)
        )
        session_rows, ids = [], []
        for b in listed:
            row = b.row
            sid = found[(row.client_id, row.provider_id, _utc(row.starts_at))]
            ids.append(sid)
            session_rows.append(
                {
                    "id": sid,
                    "location_id": row.location_id,
                    "duration_minutes": row.duration_minutes,
                    "place_of_service": row.place_of_service,
                    "appointment_status": row.appointment_status,
                    "note_status": row.note_status,
                    "note_locked_at": row.note_locked_at,
                    "self_pay": row.self_pay,
                    "external_id": row.external_id,
                }
            )
        self.db.execute(update(m.ServiceSession), session_rows)
        charges: dict[int, list[tuple[int, str]]] = {}
        for cid, sid, code in self.db.execute(
            select(m.Charge.id, m.Charge.session_id, m.Charge.procedure_code)
            .where(m.Charge.session_id.in_(ids))
            .order_by(m.Charge.id)
        ):
            charges.setdefault(sid, []).append((cid, code))
        charge_rows = []
        for b, sid in zip(listed, ids, strict=True):
            waiting = list(charges.get(sid, []))
            for charge in b.charges:
                match = next(item for item in waiting if item[1] == charge.procedure_code)
                waiting.remove(match)
                charge_rows.append(
                    {
                        "id": match[0],
                        "modifiers": charge.modifiers or "",
                        "diagnosis_codes": list(charge.diagnosis_codes or []),
                        "diagnosis_pointers": charge.diagnosis_pointers or "",
                    }
                )
        if charge_rows:
            self.db.execute(update(m.Charge), charge_rows)

    def _complete_secondaries(self) -> None:
        """The import created the secondary coverages from the exports' Secondary Insurance
        column, without member ids: the intake paperwork has them."""
        coverages = self._coverages_by_client_and_payer()
        for plan in self.clients:
            if plan.secondary is not None:
                plan.secondary = self._adopt_coverage(coverages, plan.client.id, plan.secondary)
        self.db.flush()

    def _review_old_flags(self) -> None:
        """The billing login has worked the routine flags of sessions older than three weeks
        (self-pay clients marked self-pay, secondary insurance acknowledged) in the review
        queue, each flag resolved and audited as a person's click would be; the newer ones and
        the deliberate problems wait there."""
        from revcycle.services.imports.review import resolve_flags

        cutoff = self.today - timedelta(days=REVIEWED_AFTER_DAYS)
        old = select(m.ServiceSession.id).where(
            m.ServiceSession.practice_id == self.practice.id,
            m.ServiceSession.service_on < cutoff,
        )
        planted = [b.row for b in self.planted.values()]
        keep = list(self._imported_sessions_for(planted).values())
        for rule, resolution, extra in (
            ("secondary_insurance", "acknowledge", m.WorkItem.id.is_not(None)),
            ("no_insurance", "mark_self_pay", m.ServiceSession.self_pay.is_(True)),
        ):
            ids = self.db.scalars(
                select(m.WorkItem.id)
                .join(m.ServiceSession, m.ServiceSession.id == m.WorkItem.session_id)
                .where(
                    m.WorkItem.practice_id == self.practice.id,
                    m.WorkItem.rule == rule,
                    m.WorkItem.status == "open",
                    m.WorkItem.session_id.in_(old.scalar_subquery()),
                    m.WorkItem.session_id.not_in(keep),
                    extra,
                )
                .order_by(m.WorkItem.id)
            ).all()
            resolve_flags(
                self.db,
                actor=self.importer,
                work_item_ids=list(ids),
                resolution=resolution,
                note="reviewed in the import queue",
            )

    def _imported_sessions_for(self, rows: list[m.ServiceSession]) -> dict[int, int]:
        if not rows:
            return {}
        found = self._imported_sessions(min(r.starts_at for r in rows), max(r.starts_at for r in rows))
        return {id(r): found[(r.client_id, r.provider_id, _utc(r.starts_at))] for r in rows}

    def _reload_held_rows(self) -> None:
        """A commit expires what the session holds; the money history keeps the builder's rows
        after it lets go of everything else, so load them again now, a query per table."""
        held: list[object] = [self.practice, *self.locations, *self.providers, *self.users.values()]
        held += [*self.payers.values(), *self.practice_payers.values(), *self.portals.values()]
        for plan in self.clients:
            held += [plan.client, plan.guarantor]
            held += [c for c in (plan.coverage, plan.secondary) if c is not None]
        by_model: dict[type, list[int]] = {}
        for row in held:
            identity = inspect(row).identity
            if identity is not None:
                by_model.setdefault(type(row), []).append(identity[0])
        for model, ids in by_model.items():
            for start in range(0, len(ids), 1000):
                self.db.scalars(
                    select(model)
                    .where(model.id.in_(ids[start : start + 1000]))  # type: ignore[attr-defined]
                    .execution_options(populate_existing=True)
                ).all()

    def _as_imported(self, planned: list[BuiltSession]) -> list[BuiltSession]:
        """The planned sessions, now the rows the imports wrote (with their charges)."""
        self.db.flush()
        self._reload_held_rows()
        sessions = {
            (s.client_id, s.provider_id, _utc(s.starts_at)): s
            for s in self.db.scalars(
                select(m.ServiceSession)
                .where(m.ServiceSession.practice_id == self.practice.id)
                .execution_options(populate_existing=True)
            )
        }
        charges: dict[int, list[m.Charge]] = {}
        for charge in self.db.scalars(
            select(m.Charge)
            .where(m.Charge.practice_id == self.practice.id)
            .order_by(m.Charge.id)
            .execution_options(populate_existing=True)
        ):
            charges.setdefault(charge.session_id, []).append(charge)
        built = []
        for b in planned:
            row = sessions[(b.row.client_id, b.row.provider_id, _utc(b.row.starts_at))]
            built.append(BuiltSession(row, charges.get(row.id, []), b.plan))
        position = {id(b): index for index, b in enumerate(planned)}
        self.planted = {key: built[position[id(b)]] for key, b in self.planted.items()}
        return built

    def _session_plans(self) -> list[_SessionPlan]:
        out: list[_SessionPlan] = []
        taken: set[tuple[int, date]] = set()
        provider_slots: set[tuple[int, datetime]] = set()
        counts = sessions_per_month(self.scale)
        self.summary.sessions_by_month = counts
        for month, ((first, last), count) in enumerate(zip(self.windows, counts, strict=True)):
            active = [p for p in self.clients if p.start_month <= month < p.end_month]
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            workdays = [day for day in days if day.weekday() < 5] or days
            made = 0
            attempts = 0
            while made < count and attempts < count * 50:
                attempts += 1
                plan = self.rng.choices(active, weights=[p.visits_weight for p in active])[0]
                day = self.rng.choice(workdays if self.rng.random() < 0.93 else days)
                if (plan.client.id, day) in taken:
                    continue
                hour = self.rng.randint(8, 19)
                local = datetime(day.year, day.month, day.day, hour, 0, tzinfo=self.tz)
                starts_at = local.astimezone(UTC)
                if (plan.provider_index, starts_at) in provider_slots:
                    continue
                taken.add((plan.client.id, day))
                provider_slots.add((plan.provider_index, starts_at))
                out.append(_SessionPlan(plan, starts_at, day, self.rng.random() < 0.38))
                made += 1
        return out

    def _session(self, plan: _SessionPlan, intake: bool) -> tuple[m.ServiceSession, list[m.Charge]]:
        rng = self.rng
        age_days = (self.today - plan.service_on).days
        # Canceled appointments carry no charge, so the appointment export never lists them:
        # the demo's calendar has shows, no-shows and late cancels (which carry the fee).
        status = rng.choices(["show", "no_show", "late_cancel"], weights=[88, 5, 4])[0]
        if intake:
            status = "show"
        if plan.starts_at > self.now:
            status = "scheduled"
        codes, minutes = self._codes(plan, intake)
        note_status, locked_at = "none", None
        if status == "show":
            note_status = self._note_status(age_days)
            if note_status == "locked":
                locked_at = plan.starts_at + timedelta(hours=rng.randint(2, 60))
        location = self.locations[1 if plan.telehealth else 0]
        service_session = m.ServiceSession(
            practice_id=self.practice.id,
            client_id=plan.plan.client.id,
            provider_id=self.providers[plan.plan.provider_index].id,
            location_id=location.id,
            starts_at=plan.starts_at,
            service_on=plan.service_on,
            duration_minutes=minutes,
            place_of_service=("10" if rng.random() < 0.8 else "02") if plan.telehealth else "11",
            appointment_status=status,
            note_status=note_status,
            note_locked_at=min(locked_at, self.end_of_today) if locked_at else None,
            self_pay=plan.plan.coverage is None,
            source="simplepractice",
            external_id=f"SP-APPT-{rng.randint(10**7, 10**8 - 1)}",
        )
        charges = self._charges(plan, status, codes)
        return service_session, charges

    def _note_status(self, age_days: int) -> str:
        roll = self.rng.random()
        if age_days > 14:
            return "locked" if roll < 0.993 else "draft"
        if age_days > 3:
            return "locked" if roll < 0.85 else ("draft" if roll < 0.97 else "none")
        return "locked" if roll < 0.35 else ("draft" if roll < 0.85 else "none")

    def _codes(self, plan: _SessionPlan, intake: bool) -> tuple[list[str], int]:
        rng = self.rng
        if intake:
            codes = ["90791"]
            minutes = rng.choice((55, 60, 60, 75))
        else:
            roll = rng.random()
            family = d.CLINICIANS[plan.plan.provider_index].does_family
            if roll < 0.01:
                minutes = rng.choice((60, 65, 90))
                codes = ["90839", "90840"] if minutes >= 75 else ["90839"]
            elif roll < 0.04:
                codes, minutes = ["90853"], 90
            elif family and roll < 0.25:
                codes, minutes = [rng.choice(("90847", "90847", "90846"))], rng.choice((50, 50, 55))
            else:
                code = rng.choices(["90837", "90834", "90832"], weights=[50, 40, 10])[0]
                span = {"90837": (53, 60), "90834": (38, 52), "90832": (25, 35)}[code]
                codes, minutes = [code], rng.randint(*span)
        if plan.plan.minor and codes[0] in {"90791", "90832", "90834", "90837"} and rng.random() < 0.12:
            codes.append("90785")
        return codes, minutes

    def _charges(self, plan: _SessionPlan, status: str, codes: list[str]) -> list[m.Charge]:
        if status in {"no_show", "late_cancel"}:
            return [
                m.Charge(
                    practice_id=self.practice.id,
                    procedure_code=d.NO_SHOW_CODE,
                    fee_cents=d.NO_SHOW_FEE_CENTS,
                    diagnosis_codes=[],
                    diagnosis_pointers="",
                    patient_only=True,
                )
            ]
        fees = self.fees.get(plan.plan.payer_key, self.fees["standard"])
        modifiers = "95" if plan.telehealth else ""
        pointers = "".join(str(n) for n in range(1, len(plan.plan.diagnoses) + 1))
        return [
            m.Charge(
                practice_id=self.practice.id,
                procedure_code=code,
                modifiers=modifiers,
                units=1,
                fee_cents=fees[code],
                diagnosis_codes=list(plan.plan.diagnoses),
                diagnosis_pointers=pointers,
            )
            for code in codes
        ]

    # -- money --

    def _money(self, sessions: list[BuiltSession]) -> None:
        from revcycle.services.demo_money import build_money_history

        build_money_history(self, sessions)

    # -- alerts --

    # -- counting --

    def _count(self) -> None:
        pid = self.practice.id
        s = self.summary
        by_practice = {
            "service_locations": m.ServiceLocation,
            "providers": m.Provider,
            "insurance_portals": m.InsurancePortal,
            "practice_payers": m.PracticePayer,
            "fee_schedules": m.FeeSchedule,
            "payer_contracts": m.PayerContract,
            "provider_enrollments": m.ProviderEnrollment,
            "clients": m.Client,
            "guarantors": m.Guarantor,
            "coverages": m.Coverage,
            "sessions": m.ServiceSession,
            "charges": m.Charge,
            "claims": m.Claim,
            "submissions": m.Submission,
            "claim_events": m.ClaimEvent,
            "denials": m.Denial,
            "appeals": m.Appeal,
            "campaigns": m.Campaign,
            "payments": m.Payment,
            "ledger_transactions": m.LedgerTransaction,
            "postings": m.Posting,
            "work_items": m.WorkItem,
        }
        for name, model in by_practice.items():
            column = model.practice_id  # type: ignore[attr-defined]
            setattr(s, name, self.db.scalar(select(func.count()).where(column == pid)) or 0)
        s.import_batches = self.db.scalar(select(func.count()).where(m.ImportBatch.practice_id == pid)) or 0
        s.import_flags = (
            self.db.scalar(
                select(func.count()).where(m.WorkItem.practice_id == pid, m.WorkItem.kind == "flag")
            )
            or 0
        )
        s.organizations = 1
        s.practices = 1
        s.users = self.db.scalar(select(func.count()).where(m.Membership.practice_id == pid)) or 0
        s.payers = len(self.payers)
        s.payer_aliases = (
            self.db.scalar(
                select(func.count()).where(m.PayerAlias.payer_id.in_([p.id for p in self.payers.values()]))
            )
            or 0
        )
        rows = self.db.execute(
            select(m.Claim.status, func.count()).where(m.Claim.practice_id == pid).group_by(m.Claim.status)
        )
        s.claims_by_status = dict(rows.all())


def _utc(moment: datetime) -> datetime:
    """Stored datetimes come back naive on SQLite and aware on PostgreSQL: compare in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _scaled_to_whole_dollars(cents: int, ratio: Decimal) -> int:
    """A fee times a contract ratio, to whole dollars."""
    dollars = (Decimal(cents) * ratio / 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(dollars) * 100
