"""The smaller SimplePractice reports: attendance, client details and demographics, filed claims."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from revcycle.db import models as m
from tests.integration.imports.conftest import Desk, counts_of


def _load_week(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))


def _session_of(desk: Desk, last_name: str) -> m.ServiceSession:
    return desk.db.scalars(
        select(m.ServiceSession)
        .join(m.Client)
        .where(m.Client.last_name == last_name)
        .order_by(m.ServiceSession.starts_at)
    ).first()  # type: ignore[return-value]


def test_attendance_updates_status_and_duration_and_flags_unmatched_rows(desk: Desk) -> None:
    _load_week(desk)

    batch = desk.load(desk.sample("attendance.csv"))

    assert batch.format == "attendance"
    assert counts_of(batch) == {
        "rows": 4,
        "new": 0,
        "updated": 2,
        "unchanged": 0,
        "flagged": 2,
        "rejected": 0,
    }
    jordan, maria = _session_of(desk, "Smith"), _session_of(desk, "Lopez")
    assert (jordan.appointment_status, jordan.duration_minutes) == ("show", 53)
    assert (maria.appointment_status, maria.duration_minutes) == ("no_show", 45)
    unmatched = desk.flags("attendance_unmatched")
    assert len(unmatched) == 2
    assert not any(flag.holds_billing for flag in unmatched)
    again = desk.load(desk.sample("attendance.csv"))
    assert again.counts["unchanged"] == 4


def test_attendance_duration_outside_the_code_band_is_flagged(desk: Desk) -> None:
    _load_week(desk)
    data = (
        b"1 clients,1 clinicians\n"
        b"date_of_service,start_time,end_time,client_name,clinician_name,billing_code,appointment_status\n"
        b"10/06/2025,12:00 PM,12:40 PM,Jordan Smith,Alice Ng,90837,Show\n"
    )

    desk.load(data, "attendance.csv", format=None)

    (flag,) = desk.flags("duration_out_of_band")
    assert "90837 needs 53+ minutes; the session lasted 40" in flag.detail
    assert flag.session_id == _session_of(desk, "Smith").id


def test_client_details_and_demographics_fill_identity_and_settle_flags(desk: Desk) -> None:
    _load_week(desk)
    assert len(desk.flags("missing_member_id")) >= 2

    details = desk.load(desk.sample("client_details.csv"))
    assert details.format == "client_details"
    jordan = desk.db.scalars(select(m.Client).where(m.Client.last_name == "Smith")).one()
    assert (jordan.address_line1, jordan.address_line2, jordan.city, jordan.state, jordan.postal_code) == (
        "12 Main St",
        "Apt 4",
        "Hoboken",
        "NJ",
        "07030",
    )
    coverage = desk.db.scalars(select(m.Coverage).where(m.Coverage.client_id == jordan.id)).one()
    assert coverage.member_id == "TRI123456"
    # Still no date of birth: the sessions that will need it are flagged.
    info = [flag for flag in desk.flags("missing_client_info") if flag.client_id == jordan.id]
    assert info
    assert "date of birth" in info[0].detail

    demographics = desk.load(desk.sample("client_demographics.csv"))
    assert demographics.format == "client_demographics"
    desk.db.refresh(jordan)
    assert (jordan.date_of_birth, jordan.sex) == (date(1991, 4, 12), "M")
    assert [flag for flag in desk.flags("missing_client_info") if flag.client_id == jordan.id] == []
    assert [flag for flag in desk.flags("missing_member_id") if flag.client_id == jordan.id] == []
    assert desk.load(desk.sample("client_demographics.csv")).counts["unchanged"] == 3


def test_filed_claims_become_submissions_on_claims_so_sessions_count_as_billed(desk: Desk) -> None:
    _load_week(desk)

    batch = desk.load(desk.sample("filed_claims.csv"))

    assert counts_of(batch) == {
        "rows": 3,
        "new": 2,
        "updated": 0,
        "unchanged": 0,
        "flagged": 1,  # "Paid" there, no payment here: see test_filed_claims_paid
        "rejected": 0,
    }
    claims = desk.db.scalars(select(m.Claim).order_by(m.Claim.id)).all()
    assert [(c.status, len(c.lines)) for c in claims] == [("accepted", 2), ("adjudicated", 1)]
    assert all(len(c.number) <= 17 for c in claims)
    jordan_claim, maria_claim = claims
    assert jordan_claim.service_from_on == date(2025, 10, 6)
    assert maria_claim.payer_claim_control_number == "2025289000123"
    submissions = desk.db.scalars(select(m.Submission).order_by(m.Submission.id)).all()
    assert [(s.channel, s.clearinghouse_reference) for s in submissions] == [
        ("simplepractice", "CH-2025100801"),
        ("simplepractice", "CH-2025100902"),
        ("simplepractice", "CH-2025101603"),
    ]
    assert submissions[2].previous_submission_id == submissions[1].id
    events = desk.db.scalars(
        select(m.ClaimEvent.to_status)
        .where(m.ClaimEvent.claim_id == maria_claim.id)
        .order_by(m.ClaimEvent.id)
    ).all()
    assert events == ["ready", "submitted", "rejected", "submitted", "adjudicated"]
    assert {e.source for e in desk.db.scalars(select(m.ClaimEvent))} == {"import"}
    again = desk.load(desk.sample("filed_claims.csv"))
    assert again.counts["unchanged"] == 3
    assert desk.count(m.Submission) == 3


def test_a_filed_claim_matching_nothing_is_flagged(desk: Desk) -> None:
    data = (
        b"Date Submitted,Client,Status,Payer,Clearinghouse Reference,Payer Claim\n"
        b"10/08/2025,Nobody Known,Accepted,Tricare East (99727),CH-1,--\n"
        b"10/08/2025,Nobody Known,Lost In Space,Tricare East (99727),CH-2,--\n"
    )

    batch = desk.load(data, "filed.csv")

    assert counts_of(batch)["flagged"] == 1
    assert counts_of(batch)["rejected"] == 1
    assert (
        'filed.csv row 3, column "Status": "Lost In Space"'
        in desk.rows(batch, "rejected")[0].detail["reason"]
    )
    (flag,) = desk.flags("filed_claim_unmatched")
    assert "Nobody Known" in flag.detail
