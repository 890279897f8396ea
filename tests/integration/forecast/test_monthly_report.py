"""The monthly report: its figures worked by hand, the PDF read back with pypdf, sent once
into a temporary outbox (the .eml parsed back), by the command line and by the monthly job."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from revcycle import tasks
from revcycle.adapters.mail import MemoryMailer, OutboxMailer
from revcycle.cli import build_app
from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput
from revcycle.services import monthly_report as mr
from tests import factories as f
from tests.integration.forecast.history import Book, new_book

OCTOBER = date(2026, 10, 1)
TODAY = date(2026, 11, 3)


def _october(book: Book) -> None:
    """Before October: a $200 claim still open ($50 paid). In October: two claims of $100 and
    $150, $80 paid by Acme and $20 by the patient on the first; one claim denied on its first
    adjudication and one paid."""
    old = book.claim("Acme Health", date(2026, 6, 15), 20_000)
    book.insurance_pays(old, 5_000, date(2026, 7, 20))
    first = book.claim("Acme Health", date(2026, 10, 5), 10_000)
    book.insurance_pays(first, 8_000, date(2026, 10, 25))
    book.to_patient(first, 2_000, date(2026, 10, 25))
    book.patient_pays(first, 2_000, date(2026, 10, 28))
    second = book.claim("Beacon Care", date(2026, 10, 20), 15_000)
    for claim, status, day in ((first, "paid", 25), (second, "denied", 30)):
        book.db.add(
            m.ClaimEvent(
                practice_id=book.practice.id,
                claim_id=claim.id,
                from_status="accepted",
                to_status=status,
                source="835",
                created_at=datetime(2026, 10, day, 15, 0, tzinfo=UTC),
            )
        )
    book.db.flush()


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_months_figures_worked_by_hand(db: Session) -> None:
    book = new_book(db)
    _october(book)
    report = mr.build_monthly_report(
        db, actor=f.actor_for(db, book.admin), practice_id=book.practice.id, month=OCTOBER, today=TODAY
    )
    assert (report.sessions_total, report.sessions_held) == (2, 2)
    assert report.charges_cents == 25_000
    assert (report.insurance_collections_cents, report.patient_collections_cents) == (8_000, 2_000)
    # A/R on Oct 31: old claim $150 (138 days: 121+), first claim $0, second $150 (11 days).
    assert report.ar_end_cents == 30_000
    assert [(line.label, line.amount_cents) for line in report.aging] == [
        ("0-30", 15_000),
        ("31-60", 0),
        ("61-90", 0),
        ("91-120", 0),
        ("121+", 15_000),
    ]
    assert (report.adjudicated_claims, report.denied_claims) == (2, 1)
    assert report.forecast_through == date(2026, 11, 30)
    assert report.forecast_low_cents <= report.forecast_median_cents <= report.forecast_high_cents


def test_a_month_not_over_is_refused(db: Session) -> None:
    book = new_book(db)
    with pytest.raises(InvalidInput, match="not over yet"):
        mr.build_monthly_report(
            db,
            actor=f.actor_for(db, book.admin),
            practice_id=book.practice.id,
            month=date(2026, 11, 1),
            today=TODAY,
        )
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        mr.month_of("October")


def test_sent_once_to_the_administrators_into_the_outbox(db: Session, tmp_path: Path) -> None:
    book = new_book(db)
    _october(book)
    f.make_user(db, book.practice, Role.ADMIN, email="director@example.test")
    f.make_user(db, book.practice, Role.BILLING, email="billing@example.test")
    outbox = OutboxMailer(tmp_path / "outbox")
    actor = f.actor_for(db, book.admin)

    first = mr.send_monthly_report(
        db, actor=actor, practice_id=book.practice.id, month=OCTOBER, today=TODAY, mailer=outbox
    )
    again = mr.send_monthly_report(
        db, actor=actor, practice_id=book.practice.id, month=OCTOBER, today=TODAY, mailer=outbox
    )

    assert first.sent
    assert not again.sent
    assert again.where.startswith("already sent on")
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    assert str(eml) == first.where
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert "director@example.test" in message["To"]
    assert book.admin.email in message["To"]
    assert "billing@example.test" not in message["To"]
    assert "Monthly report, October 2026" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"monthly-report-{book.practice.id}-2026-10.pdf"
    assert attachment.get_content_type() == "application/pdf"
    content = attachment.get_content()
    text = _pdf_text(content)
    for expected in ("Monthly report, October 2026", "$250.00", "$100.00", "$300.00", "50.0%", "121+"):
        assert expected in text
    stored = db.get_one(m.StoredFile, first.stored_file_id)
    assert stored.content == content
    assert stored.kind == "monthly_report"
    sends = select(func.count()).where(
        m.AuditLog.practice_id == book.practice.id, m.AuditLog.entity == "monthly_report"
    )
    assert db.scalar(sends) == 1


def test_nobody_to_send_to_sends_nothing_and_records_nothing(db: Session) -> None:
    book = new_book(db)
    book.admin.is_active = False
    db.flush()
    mailer = MemoryMailer()
    outcome = mr.send_monthly_report(
        db,
        actor=f.actor_for(db, book.admin),
        practice_id=book.practice.id,
        month=OCTOBER,
        today=TODAY,
        mailer=mailer,
    )
    assert not outcome.sent
    assert mailer.sent == []


def test_the_job_runs_on_the_first_of_the_month() -> None:
    job = tasks.monthly_reports.task_class()
    assert job.validate_datetime(datetime(2026, 11, 1, 12, 0))  # Huey passes naive UTC
    assert not job.validate_datetime(datetime(2026, 11, 2, 12, 0))


def test_the_job_sends_last_months_report_once(db: Session, tmp_path: Path) -> None:
    book = new_book(db)
    _october(book)
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    settings = Settings(mail_outbox_dir=tmp_path / "outbox")
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert tasks.run_monthly_reports(factory, settings, now=now) == 1
    assert tasks.run_monthly_reports(factory, settings, now=now) == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_the_command_sends_once(cli_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVCYCLE_MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    with Session(cli_engine) as db, db.begin():
        _october(new_book(db))
    args = ["reports", "monthly", "--month", "2026-10", "--today", "2026-11-03", "--json"]
    first = CliRunner().invoke(build_app(), args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["sent"] is True
    again = CliRunner().invoke(build_app(), args[:-1])
    assert again.exit_code == 0, again.output
    assert "not sent: already sent on" in again.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    bad = CliRunner().invoke(build_app(), ["reports", "monthly", "--month", "Oct"])
    assert bad.exit_code != 0
    assert "YYYY-MM" in bad.output
