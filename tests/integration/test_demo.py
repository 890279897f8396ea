"""The demo practice: small (scale 0.05) but whole, on both databases."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.domain.npi import npi_is_valid
from revcycle.services.assignment import DEMO_AGENTS
from revcycle.services.auth import login
from revcycle.services.demo import DemoSummary, build_demo, month_windows
from revcycle.services.demo_data import DEMO_LOGINS, DEMO_PASSWORD
from revcycle.services.ledger import check_ledger

TODAY = date(2026, 3, 16)


def small_demo(db: Session, seed: int = 1) -> DemoSummary:
    return build_demo(db, seed=seed, today=TODAY, scale=0.05)


def count(db: Session, model: Any, practice_id: int) -> int:
    return db.scalar(select(func.count()).where(model.practice_id == practice_id)) or 0


def test_demo_builds_a_whole_practice(db: Session) -> None:
    """One build, checked from every side (each build hashes six passwords: keep them few)."""
    summary = small_demo(db)
    check_counts(db, summary)
    check_people(db, summary)
    check_growth(db, summary)
    check_books_and_claims(db, summary)
    check_logins(db, summary)
    check_imports(db, summary)
    check_planted_flags(db, summary)


def check_counts(db: Session, summary: DemoSummary) -> None:
    pid = summary.practice_id
    assert pid is not None
    practice = db.get(m.Practice, pid)
    assert practice is not None
    assert practice.name == "Riverbend Counseling Group"
    assert practice.timezone == "America/New_York"
    assert npi_is_valid(practice.group_npi)
    assert summary.providers == count(db, m.Provider, pid) == 9
    assert summary.payers == 13
    assert count(db, m.ServiceLocation, pid) == 2
    assert summary.clients == count(db, m.Client, pid) >= 12
    assert summary.sessions == count(db, m.ServiceSession, pid) > 100
    assert summary.claims == count(db, m.Claim, pid) > 50
    assert summary.ledger_transactions == count(db, m.LedgerTransaction, pid)
    assert summary.work_items == count(db, m.WorkItem, pid)


def check_people(db: Session, summary: DemoSummary) -> None:
    pid = summary.practice_id
    providers = db.scalars(select(m.Provider).where(m.Provider.practice_id == pid)).all()
    assert all(npi_is_valid(p.npi) for p in providers)
    assert sum(1 for p in providers if p.supervising_provider_id is not None) == 1
    clients = db.scalars(select(m.Client).where(m.Client.practice_id == pid)).all()
    assert all(c.date_of_birth is not None for c in clients)
    guarantor_rows = db.scalars(select(m.Guarantor).where(m.Guarantor.practice_id == pid))
    guarantors = {g.client_id: g for g in guarantor_rows}
    for client in clients:
        assert client.date_of_birth is not None
        minor = (TODAY - client.date_of_birth).days < 18 * 365
        relationship = guarantors[client.id].relationship_to_client
        assert (relationship != "self") if minor else (relationship == "self"), client.display_name
        assert "555-01" in client.phone
    assert all(c.email.endswith("@example.com") for c in clients if c.email)


def check_growth(db: Session, summary: DemoSummary) -> None:
    pid = summary.practice_id
    days = db.scalars(select(m.ServiceSession.service_on).where(m.ServiceSession.practice_id == pid)).all()
    windows = month_windows(TODAY)
    per_month = [sum(1 for day in days if first <= day <= last) for first, last in windows]
    assert sum(per_month) == len(days)
    assert all(later >= earlier for earlier, later in pairwise(per_month))
    assert per_month[-1] >= 3 * per_month[0]
    assert max(days) <= TODAY


def check_books_and_claims(db: Session, summary: DemoSummary) -> None:
    check = check_ledger(db, summary.practice_id)
    assert check.ok, check.problems()
    assert check.transactions == summary.ledger_transactions
    claims = db.scalars(select(m.Claim).where(m.Claim.practice_id == summary.practice_id)).all()
    assert all(len(c.number) <= 17 for c in claims)
    left_behind = set(summary.never_submitted)
    old = Counter(
        c.status
        for c in claims
        if (TODAY - c.service_from_on).days > 90 and not left_behind & claim_sessions(db, c.id)
    )
    assert old["paid"] > old.get("accepted", 0)
    assert not {"draft", "ready"} & set(old)


def claim_sessions(db: Session, claim_id: int) -> set[int]:
    query = (
        select(m.Charge.session_id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .where(m.ClaimLine.claim_id == claim_id)
    )
    return set(db.scalars(query))


def check_logins(db: Session, summary: DemoSummary) -> None:
    pid = summary.practice_id
    roles = {
        u.email: r
        for u, r in db.execute(
            select(m.User, m.Membership.role)
            .join(m.Membership, m.Membership.user_id == m.User.id)
            .where(m.Membership.practice_id == pid)
        ).all()
    }
    agents = {email: role for email, role in roles.items() if email.endswith("@agents.demo.test")}
    assert {email: role for email, role in roles.items() if email not in agents} == {
        login.email: login.role for login in DEMO_LOGINS
    }
    assert len(agents) == sum(len(names) for _team, names in DEMO_AGENTS)  # the billing floor
    assert set(agents.values()) == {"billing"}
    settings = Settings(environment="test", secret_key="test-secret-key-that-is-long-enough-for-hs256")
    result = login(db, settings, email="billing@demo.test", password=DEMO_PASSWORD, source_ip="127.0.0.1")
    assert result.user.email == "billing@demo.test"


def check_imports(db: Session, summary: DemoSummary) -> None:
    """Clients and sessions came in through SimplePractice exports, committed batch by batch."""
    pid = summary.practice_id
    batches = db.scalars(
        select(m.ImportBatch).where(m.ImportBatch.practice_id == pid).order_by(m.ImportBatch.id)
    ).all()
    assert summary.import_batches == len(batches)
    assert all(b.status == "committed" for b in batches)
    formats = Counter(b.format for b in batches)
    assert [b.format for b in batches[:2]] == ["client_details", "client_demographics"]
    weeks = formats["simplepractice"]
    assert weeks >= 50  # one a week for a year (a week with no sessions has no export)
    assert formats["attendance"] == weeks
    exports = [b for b in batches if b.format == "simplepractice"]
    # Each export reaches back into the week before: the rows seen again are unchanged.
    assert sum(b.counts["unchanged"] for b in exports) > 0
    assert all(b.counts["rejected"] == 0 for b in batches)
    files = db.scalars(
        select(m.StoredFile.content).where(m.StoredFile.id == exports[-1].stored_file_id)
    ).one()
    header = files.decode().splitlines()[0]
    assert "Progress Note Status" in header  # the later layout
    assert "Write-off" in header
    first = db.scalars(select(m.StoredFile.content).where(m.StoredFile.id == exports[0].stored_file_id)).one()
    assert first.decode().splitlines()[0].startswith("Date of Service,Client,Clinician,Billing Code,Primary")
    assert "Progress Note Status" not in first.decode().splitlines()[0]
    sessions = db.execute(
        select(m.ServiceSession.source, m.ServiceSession.last_seen_batch_id).where(
            m.ServiceSession.practice_id == pid
        )
    ).all()
    export_ids = {b.id for b in exports}
    assert all(source == "simplepractice" and seen in export_ids for source, seen in sessions)
    charges = db.scalars(select(m.Charge).where(m.Charge.practice_id == pid)).all()
    assert all(c.source_snapshot for c in charges)
    assert {c.procedure_code for c in charges if c.patient_only} <= {"111"}
    # Member ids reached the coverages: from the client details report (primary) and the
    # intake paperwork (the secondaries the exports named).
    coverages = db.scalars(select(m.Coverage).where(m.Coverage.practice_id == pid)).all()
    demo_payers = {p.id for p in db.scalars(select(m.Payer).where(m.Payer.edi_payer_id != "64158"))}
    assert all(c.member_id for c in coverages if c.payer_id in demo_payers)
    assert all(c.subscriber_last_name for c in coverages if c.payer_id in demo_payers)
    claims = db.scalars(select(m.Claim).where(m.Claim.practice_id == pid)).all()
    by_id = {c.id: c for c in coverages}
    assert all(c.coverage_id is not None and by_id[c.coverage_id].member_id for c in claims)


def check_planted_flags(db: Session, summary: DemoSummary) -> None:
    """The deliberate problems in the exports wait in the review queue."""
    pid = summary.practice_id
    flags = db.execute(
        select(m.WorkItem.rule, m.WorkItem.status).where(
            m.WorkItem.practice_id == pid, m.WorkItem.kind == "flag"
        )
    ).all()
    assert summary.import_flags == len(flags)
    open_rules = Counter(rule for rule, status in flags if status == "open")
    for rule in (
        "unknown_payer",
        "no_insurance",
        "possible_duplicate",
        "duration_out_of_band",
        "note_not_locked",
    ):
        assert open_rules[rule] >= 1, (rule, open_rules)
    assert "attendance_unmatched" not in open_rules
    # The routine flags of older sessions were worked in the queue (not settled by a later
    # import), each one audited as a person's resolution is: by the billing login, naming the
    # flag and how it was settled.
    resolved = dict(
        db.execute(
            select(m.WorkItem.id, m.WorkItem.resolution).where(
                m.WorkItem.practice_id == pid,
                m.WorkItem.kind == "flag",
                m.WorkItem.status == "resolved",
                m.WorkItem.resolution.like("%: reviewed in the import queue"),
            )
        ).all()
    )
    assert resolved
    audited = db.execute(
        select(m.AuditLog.entity_id, m.AuditLog.actor_user_id, m.AuditLog.after).where(
            m.AuditLog.practice_id == pid, m.AuditLog.entity == "work_item", m.AuditLog.action == "update"
        )
    ).all()
    billing = db.scalars(select(m.User.id).where(m.User.email == "billing@demo.test")).one()
    by_flag = {int(entity_id): (actor, after) for entity_id, actor, after in audited}
    assert set(resolved) <= set(by_flag), "a resolution the audit log does not know"
    for flag_id, text in resolved.items():
        actor, after = by_flag[flag_id]
        assert actor == billing
        assert after["resolution"] == text


def snapshot(db: Session, practice_id: int) -> dict[str, Any]:
    """What the demo wrote, by natural keys (ids differ between runs on PostgreSQL)."""
    clients = db.execute(
        select(m.Client.first_name, m.Client.last_name, m.Client.date_of_birth)
        .where(m.Client.practice_id == practice_id)
        .order_by(m.Client.id)
    ).all()
    sessions = db.execute(
        select(m.ServiceSession.starts_at, m.ServiceSession.appointment_status, m.ServiceSession.note_status)
        .where(m.ServiceSession.practice_id == practice_id)
        .order_by(m.ServiceSession.id)
    ).all()
    # Claim numbers come from claim ids, which differ between runs on PostgreSQL.
    claims = db.execute(
        select(
            m.Claim.service_from_on,
            m.Client.last_name,
            m.Client.first_name,
            m.Claim.status,
            m.Claim.billed_cents,
        )
        .join(m.Client, m.Client.id == m.Claim.client_id)
        .where(m.Claim.practice_id == practice_id)
        .order_by(m.Claim.service_from_on, m.Client.last_name, m.Client.first_name)
    ).all()
    accounts = db.execute(
        select(m.LedgerBalance.account, m.LedgerBalance.balance_cents)
        .where(m.LedgerBalance.practice_id == practice_id, m.LedgerBalance.scope == "account")
        .order_by(m.LedgerBalance.account)
    ).all()
    return {"clients": clients, "sessions": sessions, "claims": claims, "accounts": accounts}


def test_demo_is_deterministic_for_a_seed(db: Session) -> None:
    savepoint = db.begin_nested()
    first = snapshot(db, small_demo(db, seed=3).practice_id or 0)
    savepoint.rollback()
    second = snapshot(db, small_demo(db, seed=3).practice_id or 0)
    assert first == second
    savepoint = db.begin_nested()
    other = snapshot(db, small_demo(db, seed=4).practice_id or 0)
    savepoint.rollback()
    assert other["clients"] != first["clients"]


def test_if_empty_does_nothing_when_a_practice_exists(db: Session) -> None:
    organization = m.Organization(name="Another practice's organization", kind="practice")
    db.add(m.Practice(organization=organization, name="Another practice", timezone="America/New_York"))
    db.flush()
    before = db.scalar(select(func.count()).select_from(m.Practice))
    summary = build_demo(db, seed=1, today=TODAY, scale=0.05, if_empty=True)
    assert summary.skipped
    assert db.scalar(select(func.count()).select_from(m.Practice)) == before


@pytest.mark.parametrize(
    ("environment", "demo_mode", "allowed"),
    [("development", False, True), ("production", False, False), ("production", True, True)],
)
def test_demo_mode_guard(environment: str, demo_mode: bool, allowed: bool) -> None:
    from revcycle.cli.demo import demo_allowed

    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        demo_mode=demo_mode,
        secret_key="a-production-secret-key-of-at-least-32-chars",
    )
    assert demo_allowed(settings) is allowed
