"""On a small demo practice: the forecast has every payer, the backtest at three past dates
reports its error from the ledger, and the demo's monthly report lands in the outbox once."""

from __future__ import annotations

import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy.orm import Session

from revcycle.adapters.mail import OutboxMailer
from revcycle.services import forecast as fs
from revcycle.services.actor import system_actor
from revcycle.services.demo import build_demo
from revcycle.services.monthly_report import seed_demo_monthly_report

TODAY = datetime.date(2026, 6, 15)


def test_the_demo_forecast_backtest_and_monthly_report(db: Session, tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path / "outbox")
    summary = build_demo(db, scale=0.05, today=TODAY, mailer=outbox)  # the demo mails last month's
    practice_id = summary.practice_id
    assert practice_id is not None
    actor = system_actor("demo")

    report = fs.forecast(db, actor, practice_id, TODAY, draws=500)
    assert 0 < report.total.low_cents <= report.total.median_cents <= report.total.high_cents
    assert report.total.high_cents <= report.total.open_balance_cents
    assert len(report.rows) >= 3

    backtest = fs.backtest(db, actor, practice_id, fs.default_backtest_dates(TODAY), draws=500)
    assert len(backtest.rows) == 3
    for row in backtest.rows:
        assert row.point.actual_cents == fs.actual_collections(db, practice_id, row.point.as_of)
        assert 0 < row.point.actual_cents <= row.all_collections_cents
    error = backtest.summary.mean_percentage_error
    assert error is not None
    assert error < 0.5  # the demo's payers are regular: the median is within half of the actual

    again = seed_demo_monthly_report(db, actor, practice_id, TODAY, mailer=outbox)
    assert again["monthly_reports_sent"] == 0  # once per practice and month
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert "May 2026" in message["Subject"]
    assert [a.get_filename() for a in message.iter_attachments()] == [
        f"monthly-report-{practice_id}-2026-05.pdf"
    ]
