"""The aging report: buckets from the ledger's claim balances, basis switch, custom buckets,
groups, page = API = downloads, bulk follow-up, bad input and permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.ledger_events import ChargeRef, TransactionKind, charge_to_patient
from revcycle.errors import InvalidInput
from revcycle.services import followup, ledger
from revcycle.services.reports.aging import aging_filters, aging_report, follow_up_claims, parse_buckets
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.reports.world import History, csv_rows, pdf_text, row_starting, xlsx_rows


def _report(db: Session, h: History, **filters: str):  # type: ignore[no-untyped-def]
    actor = f.actor_for(db, h.billing)
    return aging_report(
        db, actor=actor, practice_id=h.practice.id, today=h.today, filters=aging_filters(**filters)
    )


def _ledger_ar(db: Session, h: History) -> int:
    return int(
        db.scalar(
            select(func.sum(m.LedgerBalance.balance_cents)).where(
                m.LedgerBalance.practice_id == h.practice.id,
                m.LedgerBalance.scope == BalanceScope.ACCOUNT.value,
                m.LedgerBalance.account.in_([Account.AR_INSURANCE.value, Account.AR_PATIENT.value]),
            )
        )
    )


def test_buckets_by_date_of_service_sum_to_the_ledgers_ar(db: Session, history: History) -> None:
    report = _report(db, history)
    assert report.bucket_labels == ["0-30", "31-60", "61-90", "91-120", "121+"]
    assert report.totals.by_bucket == [10000, 2000, 0, 15000, 8000]
    assert report.totals.insurance_cents == 33000
    assert report.totals.patient_cents == 2000
    assert sum(report.totals.by_bucket) == report.totals.total_cents == _ledger_ar(db, history) == 35000
    assert report.off_claim_cents == 0
    assert report.totals.claims == 4
    by_payer = {g.label: (g.claims, g.by_bucket) for g in report.groups}
    assert by_payer == {
        "Birch Mutual": (2, [0, 0, 0, 15000, 8000]),
        "Aster Health": (2, [10000, 2000, 0, 0, 0]),
    }
    c3 = next(c for c in report.claims if c.claim_id == history.claims["c3"].id)
    assert (c3.days, c3.bucket, c3.tone) == (100, 3, "bucket-4")
    assert report.claims[0].number == history.claims["c4"].number  # oldest first


def test_submission_basis_ages_from_the_first_submission(db: Session, history: History) -> None:
    report = _report(db, history, basis="submission")
    assert report.totals.by_bucket == [10000, 2000, 15000, 0, 8000]  # c3: 70 days; c4 never sent
    c1 = next(c for c in report.claims if c.claim_id == history.claims["c1"].id)
    assert (c1.submitted_on, c1.days) == (
        history.today - timedelta(days=9),
        9,
    )


def test_charges_on_no_claim_are_aged_too(client: TestClient, db: Session, history: History) -> None:
    """A self-pay session's $60 (T-50) is A/R no claim holds: it joins the 31-60 bucket."""
    client_row = f.make_client(db, history.practice)
    guarantor = f.make_guarantor(db, client_row)
    day = history.today - timedelta(days=50)
    session = f.make_session(db, history.practice, client_row, history.p1, fee_cents=6000)
    session.service_on = day
    ref = ChargeRef(session.charges[0].id, client_row.id)
    ledger.post_transaction(
        db,
        actor=history.actor,
        practice_id=history.practice.id,
        kind=TransactionKind.CHARGE,
        accounting_on=day,
        lines=charge_to_patient(6000, ref, guarantor.id),
    )
    report = _report(db, history)
    assert report.totals.by_bucket == [10000, 8000, 0, 15000, 8000]
    assert report.totals.total_cents == _ledger_ar(db, history) == 41000
    assert report.off_claim_cents == 0
    assert report.unclaimed is not None
    assert (report.unclaimed.claims, report.unclaimed.patient_cents) == (1, 6000)
    assert len(report.claims) == 4
    assert login(client, history.billing.email).status_code == 303
    assert 'data-testid="aging-total">$410.00<' in client.get("/reports/aging").text
    rows = csv_rows(client.get("/reports/aging", params={"format": "csv"}).content)
    assert row_starting(rows, "Not on a claim")[-4:] == ["31-60", "0.00", "60.00", "60.00"]
    assert row_starting(rows, "Total")[-1] == "410.00"


def test_custom_buckets_and_groups(db: Session, history: History) -> None:
    report = _report(db, history, buckets="15,60")
    assert report.bucket_labels == ["0-15", "16-60", "61+"]
    assert report.totals.by_bucket == [10000, 2000, 23000]
    by_clinician = {g.key: g.total_cents for g in _report(db, history, group_by="clinician").groups}
    assert by_clinician == {str(history.p1.id): 25000, str(history.p2.id): 10000}
    by_status = {g.key: g.total_cents for g in _report(db, history, group_by="status").groups}
    assert by_status == {"accepted": 18000, "denied": 15000, "paid": 2000}


def test_bucket_bounds_are_checked() -> None:
    assert [b.label for b in parse_buckets("30,60,90,120")] == ["0-30", "31-60", "61-90", "91-120", "121+"]
    for bad, words in (
        ("30,20", "increase"),
        ("abc", "whole days"),
        ("0,30", "positive"),
        (",".join("123456789"), "at most"),
    ):
        with pytest.raises(InvalidInput, match=words):
            parse_buckets(bad)
    with pytest.raises(InvalidInput, match="basis"):
        aging_filters(basis="billed")
    with pytest.raises(InvalidInput, match="group_by"):
        aging_filters(group_by="client")


def test_page_api_and_downloads_agree(client: TestClient, db: Session, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/aging", params={"basis": "submission"})
    assert page.status_code == 200, page.text
    assert 'data-testid="aging-total">$350.00<' in page.text
    assert 'data-testid="aging-bucket-3">$150.00<' in page.text
    assert f'class="bucket-3" data-claim="{history.claims["c3"].id}"' in page.text
    assert 'data-testid="aging-chart"' in page.text
    api = client.get(
        "/api/reports/aging", params={"basis": "submission"}, headers=bearer(client, history.billing.email)
    )
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["totals"]["by_bucket"] == [10000, 2000, 15000, 0, 8000]
    assert body["totals"]["total_cents"] == 35000
    assert {c["number"] for c in body["claims"]} == {c.number for c in history.claims.values()}
    csv_file = client.get("/reports/aging", params={"basis": "submission", "format": "csv"})
    assert csv_file.headers["content-type"].startswith("text/csv")
    rows = csv_rows(csv_file.content)
    assert row_starting(rows, "Total")[-1] == "350.00"
    assert len(rows) == 1 + 4 + 1
    xlsx = client.get("/reports/aging", params={"format": "xlsx"})
    assert row_starting(xlsx_rows(xlsx.content), "Total")[-1] == 350
    pdf = client.get("/reports/aging", params={"format": "pdf"})
    assert pdf.content.startswith(b"%PDF")
    assert "$350.00" in pdf_text(pdf.content)


def test_bad_input_answers_a_message(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    bad = client.get("/reports/aging", params={"buckets": "60,30"})
    assert bad.status_code == 422
    assert "bounds must increase" in bad.text
    assert client.get("/reports/aging", params={"format": "docx"}).status_code == 422
    api = client.get(
        "/api/reports/aging", params={"group_by": "x"}, headers=bearer(client, history.billing.email)
    )
    assert api.status_code == 422
    assert "group_by" in api.json()["detail"]


def test_follow_up_moves_the_ticked_claims_to_the_top_of_the_queue(
    client: TestClient, db: Session, history: History
) -> None:
    c1 = history.claims["c1"]
    followup.rebuild(db, practice_id=history.practice.id, today=history.today)
    item = db.scalars(
        select(m.WorkItem).where(m.WorkItem.claim_id == c1.id, m.WorkItem.kind == "followup")
    ).one()
    assert item.due_on is not None
    assert item.due_on > history.today  # sent 9 days ago: not due yet
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/aging")
    moved = client.post(
        "/reports/aging/selected",
        data={
            "csrf_token": csrf_from(page.text),
            "action": "follow_up",
            "claim_ids": [str(c1.id)],
            "basis": "service",
        },
    )
    assert moved.status_code == 303, moved.text
    assert "done=1" in moved.headers["location"]
    db.expire_all()
    assert db.get(m.Claim, c1.id).next_followup_on == history.today  # type: ignore[union-attr]
    assert db.get(m.WorkItem, item.id).due_on == history.today  # type: ignore[union-attr]
    audited = db.scalar(
        select(func.count()).where(
            m.AuditLog.entity == "claim", m.AuditLog.entity_id == str(c1.id), m.AuditLog.reason.like("aging%")
        )
    )
    assert audited == 1
    assert "set to follow up today" in client.get(moved.headers["location"]).text


def test_follow_up_refuses_another_practices_claim(db: Session, history: History) -> None:
    other = f.make_practice(db)
    stranger = f.make_claim(
        db,
        f.make_session(db, other, f.make_client(db, other), f.make_provider(db, other)),
        f.make_coverage(db, f.make_client(db, other), history.aster),
    )
    with pytest.raises(InvalidInput, match="not found"):
        follow_up_claims(
            db,
            actor=f.actor_for(db, history.billing),
            practice_id=history.practice.id,
            claim_ids=[stranger.id],
            today=history.today,
        )


def test_export_selected_holds_only_the_ticked_claims(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/aging")
    chosen = [history.claims["c1"].id, history.claims["c3"].id]
    answer = client.post(
        "/reports/aging/selected",
        data={"csrf_token": csrf_from(page.text), "action": "csv", "claim_ids": [str(i) for i in chosen]},
    )
    assert answer.status_code == 200, answer.text
    rows = csv_rows(answer.content)
    assert {row[0] for row in rows[1:-1]} == {history.claims["c1"].number, history.claims["c3"].number}
    assert row_starting(rows, "Total")[-1] == "250.00"
    nothing = client.post(
        "/reports/aging/selected", data={"csrf_token": csrf_from(page.text), "action": "csv"}
    )
    assert nothing.status_code == 422


def test_a_therapist_is_refused(client: TestClient, history: History) -> None:
    assert login(client, history.therapist.email).status_code == 303
    assert client.get("/reports/aging").status_code == 403
    assert client.get("/reports").status_code == 403
    api = client.get("/api/reports/aging", headers=bearer(client, history.therapist.email))
    assert api.status_code == 403
