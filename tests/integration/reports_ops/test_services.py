"""Each operations report on the hand-built history (world.py), every number worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.pipeline import PipelineStage
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services.reports_ops import agents, mix, productivity, weekly
from tests import factories as f
from tests.integration.reports_ops.world import TODAY, History

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)


def test_weekly_reconciliation_lists_the_weeks_sessions_with_stage_claims_and_actions(
    db: Session, history: History
) -> None:
    actor = f.actor_for(db, history.billing)
    report = weekly.weekly_reconciliation(
        db, actor=actor, practice_id=history.practice.id, day=date(2026, 3, 18)
    )
    assert (report.monday, report.sunday) == (date(2026, 3, 16), date(2026, 3, 22))
    s = history.sessions
    assert [row.session.id for row in report.rows] == [s["s6"].id, s["s7"].id, s["s8"].id, s["s9"].id]
    by_id = {row.session.id: row for row in report.rows}
    six = by_id[s["s6"].id]
    assert six.session.stage is PipelineStage.SUBMITTED
    assert [(c.number, c.status, c.payer_name) for c in six.claims] == [
        (history.claims["s6"].number, "submitted", "Beta Care")
    ]
    assert six.needs_action == f"Follow up claim {history.claims['s6'].number}"
    assert by_id[s["s7"].id].session.stage is PipelineStage.NOT_BILLABLE  # self-pay, documented
    assert by_id[s["s7"].id].needs_action == ""  # its only work item is resolved
    assert by_id[s["s8"].id].session.stage is PipelineStage.COMPLETED
    assert by_id[s["s8"].id].needs_action == "Lock the note"
    assert by_id[s["s9"].id].session.stage is PipelineStage.NOT_BILLABLE  # a no-show without a fee
    counts = {stage: n for stage, n in report.stage_counts.items() if n}
    assert counts == {PipelineStage.SUBMITTED: 1, PipelineStage.NOT_BILLABLE: 2, PipelineStage.COMPLETED: 1}
    assert report.needing_action == 2
    assert report.charge_cents == 15000 + 12000 + 15000  # s9 has no charge line
    table = weekly.weekly_table(report, TODAY)
    assert len(table.rows) == 4
    assert table.tones == ("bucket-2", "", "bucket-2", "")


def test_weekly_reconciliation_is_for_reports_people_only(db: Session, history: History) -> None:
    with pytest.raises(PermissionDenied):
        weekly.weekly_reconciliation(
            db, actor=f.actor_for(db, history.therapist), practice_id=history.practice.id, day=TODAY
        )


def test_payer_mix_shares_sessions_charges_and_collections(db: Session, history: History) -> None:
    actor = f.actor_for(db, history.billing)
    report = mix.payer_mix(
        db, actor=actor, practice_id=history.practice.id, since=FEB, until=TODAY, today=TODAY
    )
    rows = {row.payer_name: row for row in report.rows}
    # Alpha: s1, s2, s4, s5 = 150 + 120 + 150 + 100; paid 90 (the 30 reversed) + 50 + 60
    alpha = rows["Alpha Health"]
    assert (alpha.payer_id, alpha.sessions, alpha.charges_cents, alpha.collections_cents) == (
        history.alpha.id,
        4,
        52000,
        20000,
    )
    beta = rows["Beta Care"]  # s3, s6: 150 + 150; paid 100
    assert (beta.sessions, beta.charges_cents, beta.collections_cents) == (2, 30000, 10000)
    assert (
        rows["Self-pay"].sessions,
        rows["Self-pay"].charges_cents,
        rows["Self-pay"].collections_cents,
    ) == (
        1,
        12000,
        12000,
    )
    assert (rows["Not billed yet"].sessions, rows["Not billed yet"].charges_cents) == (1, 0)  # s8
    assert (report.sessions, report.charges_cents, report.collections_cents) == (8, 94000, 42000)
    assert alpha.session_share == pytest.approx(4 / 8)
    assert alpha.charge_share == pytest.approx(520 / 940)
    assert alpha.collection_share == pytest.approx(200 / 420)
    assert [row.payer_name for row in report.rows][:2] == ["Alpha Health", "Beta Care"]  # by charges


def test_payer_mix_takes_dates_of_service_in_the_range(db: Session, history: History) -> None:
    actor = f.actor_for(db, history.billing)
    report = mix.payer_mix(
        db, actor=actor, practice_id=history.practice.id, since=MAR, until=TODAY, today=TODAY
    )
    rows = {row.payer_name: (row.sessions, row.charges_cents, row.collections_cents) for row in report.rows}
    assert rows == {
        "Alpha Health": (2, 25000, 11000),  # s4, s5
        "Beta Care": (1, 15000, 0),  # s6
        "Self-pay": (1, 12000, 12000),  # s7
        "Not billed yet": (1, 0, 0),  # s8
    }
    with pytest.raises(InvalidInput, match="since"):
        mix.payer_mix(db, actor=actor, practice_id=history.practice.id, since=TODAY, until=MAR, today=TODAY)


def test_revenue_by_procedure_code(db: Session, history: History) -> None:
    actor = f.actor_for(db, history.admin)
    report = mix.procedure_revenue(
        db, actor=actor, practice_id=history.practice.id, since=FEB, until=TODAY, today=TODAY
    )
    rows = {
        r.procedure_code: (r.lines, r.charges_cents, r.paid_cents, r.average_paid_cents) for r in report.rows
    }
    assert rows == {
        "90837": (5, 60000, 24000, 4800),  # s1, s3, s4, s6, s8 (unposted); paid 90 + 100 + 50
        "90834": (2, 24000, 12000, 6000),  # s2, s7
        "90832": (1, 10000, 6000, 6000),  # s5
    }
    assert (report.lines, report.charges_cents, report.paid_cents, report.average_paid_cents) == (
        8,
        94000,
        42000,
        5250,
    )


def test_agent_performance_reuses_the_workload_figures(db: Session, history: History) -> None:
    actor = f.actor_for(db, history.billing)
    report = agents.agent_performance(db, actor=actor, practice_id=history.practice.id, today=TODAY)
    rows = {row.name: row for row in report.rows}
    assert set(rows) == {"Agent Avery", "Agent Blake"}
    avery, blake = rows["Agent Avery"], rows["Agent Blake"]
    # Avery: s2 (120 open) and s4 (150 - 50 = 100 open); billed 270, paid 50
    assert (avery.portfolio_cents, avery.claims, avery.average_claim_cents) == (22000, 2, 11000)
    assert (avery.billed_cents, avery.paid_cents) == (27000, 5000)
    assert avery.collection_rate == pytest.approx(50 / 270)
    # Blake: s6 open (150); s3 paid (not in the portfolio) still counts in the collection rate
    assert (blake.team, blake.portfolio_cents, blake.claims, blake.average_claim_cents) == (
        "Senior Agent",
        15000,
        1,
        15000,
    )
    assert (blake.billed_cents, blake.paid_cents) == (30000, 10000)
    assert avery.portfolio_share == pytest.approx(220 / 370)
    assert [row.name for row in report.rows] == ["Agent Avery", "Agent Blake"]  # largest first
    assert (report.portfolio_cents, report.claims, report.average_claim_cents) == (37000, 3, 12333)
    assert report.collection_rate == pytest.approx(150 / 570)


def _rows(report: productivity.Productivity) -> dict[tuple[str, date], productivity.ProductivityRow]:
    return {(row.provider_name.split(",")[0], row.month): row for row in report.rows}


def test_provider_productivity_per_clinician_and_month(db: Session, history: History) -> None:
    actor = f.actor_for(db, history.billing)
    report = productivity.productivity(
        db, actor=actor, practice_id=history.practice.id, first_month=FEB, last_month=MAR, today=TODAY
    )
    rows = _rows(report)
    assert set(rows) == {("Ada First", FEB), ("Ada First", MAR), ("Ben Second", FEB), ("Ben Second", MAR)}

    feb1 = rows["Ada First", FEB]  # s1, s2
    assert (feb1.sessions, feb1.billable_hours, feb1.working_days) == (2, Decimal("1.83"), 20)
    assert feb1.sessions_per_day == Decimal("0.10")
    assert (feb1.figures.charges_cents, feb1.revenue_per_session_cents, feb1.growth) == (27000, 13500, None)
    assert (feb1.figures.claims_sent, feb1.portal_share, feb1.electronic_share, feb1.acceptance_rate) == (
        2,
        0.5,
        0.5,
        1.0,
    )
    assert feb1.retention is None  # nobody seen in January
    assert (feb1.figures.documented, feb1.figures.on_time, feb1.documentation_days) == (2, 1, Decimal("3.0"))

    mar1 = rows["Ada First", MAR]  # s4, s5 (30 nominal minutes), s8 held; s9 a no-show
    assert (mar1.sessions, mar1.figures.minutes, mar1.working_days) == (3, 55 + 30 + 55, 15)
    assert mar1.sessions_per_day == Decimal("0.20")
    assert (mar1.figures.charges_cents, mar1.revenue_per_session_cents) == (25000, 8333)
    assert mar1.growth == pytest.approx(0.5)
    assert (mar1.figures.claims_sent, mar1.portal_share, mar1.acceptance_rate) == (2, 0.5, 1.0)
    # February's clients c1, c2: c1 seen again, c2 only missed an appointment
    assert (mar1.figures.last_month_clients, mar1.figures.retained_clients, mar1.retention) == (2, 1, 0.5)
    assert (mar1.figures.documented, mar1.figures.on_time, mar1.documentation_days) == (2, 1, Decimal("3.0"))

    feb2 = rows["Ben Second", FEB]  # s3: rejected once, sent twice: not accepted on the first
    assert (feb2.sessions, feb2.figures.claims_sent, feb2.acceptance_rate, feb2.electronic_share) == (
        1,
        1,
        0.0,
        1.0,
    )
    assert feb2.documentation_days == Decimal("0.0")

    mar2 = rows["Ben Second", MAR]  # s6 (submitted, not yet accepted), s7 self-pay
    assert (mar2.sessions, mar2.figures.charges_cents, mar2.revenue_per_session_cents) == (2, 27000, 13500)
    assert mar2.growth == pytest.approx(1.0)
    assert (mar2.figures.claims_sent, mar2.acceptance_rate) == (1, 0.0)
    assert mar2.retention == 1.0
    assert (mar2.figures.documented, mar2.figures.on_time, mar2.documentation_days) == (2, 2, Decimal("0.5"))

    totals = report.totals
    assert (totals["sessions"], totals["charges_cents"], totals["revenue_per_session_cents"]) == (
        8,
        94000,
        11750,
    )
    assert totals["acceptance_rate"] == pytest.approx(4 / 6)  # s1, s2, s4, s5 of six sent


def test_productivity_for_one_clinician_and_bad_ranges(db: Session, history: History) -> None:
    actor = f.actor_for(db, history.billing)
    pid = history.practice.id
    one = productivity.productivity(
        db,
        actor=actor,
        practice_id=pid,
        first_month=MAR,
        last_month=MAR,
        today=TODAY,
        provider_id=history.p2.id,
    )
    assert [(row.provider_id, row.month, row.previous_sessions) for row in one.rows] == [
        (history.p2.id, MAR, 1)
    ]
    with pytest.raises(InvalidInput, match="since"):
        productivity.productivity(
            db, actor=actor, practice_id=pid, first_month=MAR, last_month=FEB, today=TODAY
        )
    with pytest.raises(InvalidInput, match="at most 24 months"):
        productivity.productivity(
            db, actor=actor, practice_id=pid, first_month=date(2023, 1, 1), last_month=MAR, today=TODAY
        )


GUIDE = {
    "base_cents": "1,000.00",
    "per_session_cents": "10",
    "quality_bonus_cents": "200",
    "quality_bar_percent": "90",
    "on_time_days": "3",
    "efficiency_target_sessions": "2",
    "efficiency_per_session_cents": "5",
    "revenue_share_percent": "10",
    "revenue_threshold_cents": "200",
}


def test_compensation_applies_the_guide_to_each_clinicians_month(db: Session, history: History) -> None:
    admin = f.actor_for(db, history.admin)
    pid = history.practice.id
    productivity.save_compensation_parameters(
        db, actor=admin, practice_id=pid, raw=GUIDE, reason="2026 guide"
    )
    report = productivity.compensation(
        db, actor=f.actor_for(db, history.billing), practice_id=pid, month=MAR, today=TODAY
    )
    pay = {row.provider_id: row.pay for row in report.rows}
    # Ada: 3 sessions, notes on time 1 of 2 (50% < 90%), 1 session over 2, charges 250 - 200 above
    ada = pay[history.p1.id]
    assert (ada.base_cents, ada.per_session_cents, ada.quality_cents, ada.efficiency_cents) == (
        100000,
        3000,
        0,
        500,
    )
    assert (ada.revenue_share_cents, ada.total_cents) == (500, 104000)
    # Ben: 2 sessions, 2 of 2 on time, none over the target, 270 - 200 above the threshold
    ben = pay[history.p2.id]
    assert (ben.per_session_cents, ben.quality_cents, ben.efficiency_cents, ben.revenue_share_cents) == (
        2000,
        20000,
        0,
        700,
    )
    assert ben.total_cents == 122700
    assert report.total_cents == 104000 + 122700
    table = productivity.compensation_table(report, TODAY)
    assert table.totals is not None
    assert table.totals["total_cents"] == 226700


def test_the_guide_is_set_by_administrators_checked_and_audited(db: Session, history: History) -> None:
    pid = history.practice.id
    with pytest.raises(PermissionDenied):
        productivity.save_compensation_parameters(
            db, actor=f.actor_for(db, history.billing), practice_id=pid, raw=GUIDE
        )
    admin = f.actor_for(db, history.admin)
    with pytest.raises(InvalidInput) as refused:
        productivity.save_compensation_parameters(
            db, actor=admin, practice_id=pid, raw={**GUIDE, "quality_bar_percent": "140", "on_time_days": "x"}
        )
    assert [p.where for p in refused.value.problems] == ["quality_bar_percent", "on_time_days"]
    assert productivity.compensation_parameters(db, pid).base_cents == 0  # nothing stored
    productivity.save_compensation_parameters(db, actor=admin, practice_id=pid, raw=GUIDE, reason="new guide")
    assert productivity.compensation_parameters(db, pid).base_cents == 100000
    entry = db.scalars(
        select(m.AuditLog).where(m.AuditLog.practice_id == pid, m.AuditLog.entity == "compensation_guide")
    ).one()
    assert entry.reason == "new guide"
    assert entry.after is not None
    assert entry.after["base_cents"] == 100000
