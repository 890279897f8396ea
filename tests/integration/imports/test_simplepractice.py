"""The SimplePractice appointment export: stage, preview, commit; matching and re-importing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from revcycle.db import models as m
from tests.integration.imports.conftest import Desk, counts_of, sp_file, sp_row


def test_the_sample_export_stages_previews_and_commits(desk: Desk) -> None:
    before = desk.counts()
    batch = desk.stage(desk.sample("simplepractice_appointments.csv"), "week.csv")

    assert batch.status == "staged"
    # Only the overpaid row with a secondary payer is flagged itself; the unknown clinicians,
    # payers and member ids are flags about them, counted once each, not against every row.
    assert counts_of(batch) == {
        "rows": 5,
        "new": 4,
        "updated": 0,
        "unchanged": 0,
        "flagged": 1,
        "rejected": 0,
    }
    assert batch.counts["new_flags_about"] == {
        "unknown_payer": 4,
        "unknown_clinician": 2,
        "missing_member_id": 3,
    }
    # Staging changes nothing live: only the batch, its file, its outcomes and one audit row.
    after_stage = desk.counts()
    for table in ("clients", "providers", "payers", "sessions", "charges", "work_items", "coverages"):
        assert after_stage[table] == before[table], table
    assert after_stage["audit_log"] == before["audit_log"] + 1
    stored = desk.db.get(m.StoredFile, batch.stored_file_id)
    assert stored is not None
    assert stored.content == desk.sample("simplepractice_appointments.csv")
    assert len(stored.sha256) == 64
    assert stored.kind == "csv"
    assert stored.direction == "in"

    desk.commit(batch)

    assert batch.status == "committed"
    assert batch.counts["committed"] is True
    after = desk.counts()
    assert after["sessions"] - before["sessions"] == 4  # the add-on code joins its session
    assert after["charges"] - before["charges"] == 5
    assert after["clients"] - before["clients"] == 4
    assert after["audit_log"] == after_stage["audit_log"] + 1  # one row per batch, not per row
    no_show_fee = desk.db.scalars(select(m.Charge).where(m.Charge.procedure_code == "111")).one()
    assert no_show_fee.patient_only
    jordan = desk.db.scalars(
        select(m.ServiceSession).join(m.Client).where(m.Client.last_name == "Smith")
    ).one()
    # 12:00 in New York on 10/06/2025 (daylight time) is 16:00 UTC.
    assert jordan.starts_at == datetime(2025, 10, 6, 16, 0, tzinfo=UTC)
    assert sorted(c.procedure_code for c in jordan.charges) == ["90785", "90837"]
    assert jordan.last_seen_batch_id == batch.id
    linked = desk.rows(batch)
    assert all(row.session_id is not None for row in linked)
    # One flag per clinician, per payer and per client, about them rather than a session.
    clinicians = desk.flags("unknown_clinician")
    assert sorted(f.title for f in clinicians) == [
        "Unknown clinician: Alice Ng",
        "Unknown clinician: Sam Rivera",
    ]
    assert all(f.session_id is None and f.provider_id is not None for f in clinicians)
    assert all(f.session_id is None and f.payer_id is not None for f in desk.flags("unknown_payer"))
    members = desk.flags("missing_member_id")
    assert len(members) == 3
    assert all(f.session_id is None and f.client_id is not None for f in members)
    assert len(desk.flags("insurance_over")) == 1


def test_reimporting_the_same_export_changes_nothing(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))
    before = desk.counts()

    again = desk.load(desk.sample("simplepractice_appointments.csv"))

    assert counts_of(again) == {
        "rows": 5,
        "new": 0,
        "updated": 0,
        "unchanged": 5,
        "flagged": 0,
        "rejected": 0,
    }
    after = desk.counts()
    for table in (
        "clients",
        "providers",
        "payers",
        "payer_aliases",
        "coverages",
        "sessions",
        "charges",
        "work_items",
    ):
        assert after[table] == before[table], table


def test_an_overlapping_export_with_a_changed_amount_updates_the_charge_with_its_difference(
    desk: Desk,
) -> None:
    desk.load(sp_file(sp_row("03/02/2026 10:00"), sp_row("03/03/2026 10:00", client="Maria Lopez")))
    changed = sp_row(
        "03/03/2026 10:00",
        client="Maria Lopez",
        insurance_status="PAID",
        insurance_figures="160.00,140.00,20.00",
    )

    batch = desk.stage(sp_file(changed, sp_row("03/04/2026 10:00", client="Pat Kim")))

    by_row = {row.row_number: row for row in desk.rows(batch)}
    assert by_row[2].outcome == "updated"
    assert by_row[2].detail["diff"] == {
        "insurance_status": ["UNPAID", "PAID"],
        "insurance_paid_cents": [0, 14000],
        "insurance_unpaid_cents": [16000, 2000],
    }
    assert by_row[3].detail["change"] == "new"
    desk.commit(batch)
    charge = desk.db.scalars(
        select(m.Charge).join(m.ServiceSession).join(m.Client).where(m.Client.last_name == "Lopez")
    ).one()
    assert charge.source_snapshot["insurance_paid_cents"] == 14000


def test_a_code_changed_for_the_same_slot_updates_the_charge(desk: Desk) -> None:
    desk.load(sp_file(sp_row(code="90834")))
    sessions = desk.count(m.ServiceSession)

    batch = desk.load(sp_file(sp_row(code="90837")))

    row = desk.rows(batch)[0]
    assert row.outcome == "updated"
    assert row.detail["diff"]["code"] == ["90834", "90837"]
    assert desk.count(m.ServiceSession) == sessions
    codes = desk.db.scalars(select(m.Charge.procedure_code)).all()
    assert codes == ["90837"]


def test_two_identical_rows_are_flagged_as_a_possible_duplicate(desk: Desk) -> None:
    batch = desk.load(sp_file(sp_row(), sp_row()))

    rows = desk.rows(batch)
    assert [r.outcome for r in rows] == ["new", "flagged"]  # the second row is the question
    assert rows[1].detail["change"] == "duplicate"
    (flag,) = desk.flags("possible_duplicate")
    assert flag.holds_billing
    assert flag.session_id == rows[0].session_id
    assert desk.count(m.Charge) == 1  # one charge until a person decides

    again = desk.load(sp_file(sp_row(), sp_row()))
    assert len(desk.flags("possible_duplicate")) == 1  # the same flag, not a second
    assert desk.count(m.Charge) == 1
    assert again.counts["flagged"] == 0


def test_a_session_missing_from_a_later_export_of_the_same_dates_is_flagged_not_deleted(desk: Desk) -> None:
    desk.load(sp_file(sp_row("03/02/2026 10:00"), sp_row("03/03/2026 10:00", client="Maria Lopez")))

    later = desk.stage(sp_file(sp_row("03/02/2026 10:00"), sp_row("03/04/2026 10:00", client="Pat Kim")))
    assert later.counts["missing_sessions"] == 1
    desk.commit(later)

    (flag,) = desk.flags("missing_from_export")
    maria = desk.db.scalars(
        select(m.ServiceSession).join(m.Client).where(m.Client.last_name == "Lopez")
    ).one()
    assert flag.session_id == maria.id
    assert flag.holds_billing
    assert desk.count(m.ServiceSession) == 3


def test_payers_match_by_payer_id_first_and_another_name_becomes_an_alias(desk: Desk, known_payers) -> None:  # type: ignore[no-untyped-def]
    horizon = known_payers("Horizon Blue Cross Blue Shield of New Jersey", "22099")

    desk.load(sp_file(sp_row(primary="Blue Cross of New Jersey Horizon (22099)")))

    assert desk.flags("unknown_payer") == []
    coverage = desk.db.scalars(select(m.Coverage)).one()
    assert coverage.payer_id == horizon.id
    alias = desk.db.scalars(select(m.PayerAlias).where(m.PayerAlias.payer_id == horizon.id)).one()
    assert alias.normalized == "blue cross of new jersey horizon"


def test_unknown_payers_and_clinicians_are_created_and_flagged(desk: Desk) -> None:
    desk.load(sp_file(sp_row(primary="Brand New Health (NEW01)")))

    payer = desk.db.scalars(select(m.Payer).where(m.Payer.edi_payer_id == "NEW01")).one()
    assert payer.name == "Brand New Health"
    (payer_flag,) = desk.flags("unknown_payer")
    assert payer_flag.title == "Unknown payer: Brand New Health (NEW01)"
    (clinician_flag,) = desk.flags("unknown_clinician")
    provider = desk.db.scalars(select(m.Provider)).one()
    assert (provider.first_name, provider.last_name) == ("Alice", "Ng")
    assert provider.npi.startswith("X")
    assert clinician_flag.holds_billing


def _rules_of(desk: Desk, *rows: str) -> dict[str, m.WorkItem]:
    desk.load(sp_file(*rows))
    return {flag.rule: flag for flag in desk.flags()}


def test_every_row_flag_is_raised_by_a_crafted_row(desk: Desk, known_payers, db) -> None:  # type: ignore[no-untyped-def]
    known_payers("Tricare East", "99727")
    known_payers("Horizon", "22099")
    flags = _rules_of(
        desk,
        sp_row("03/02/2026 09:00", client="No Insurance", primary="--"),
        sp_row("03/02/2026 10:00", client="Draft Note", note="DRAFT"),
        sp_row(
            "03/02/2026 11:00", client="Over Paid", insurance_status="OVER", insurance_figures="160,170,-10"
        ),
        sp_row("01/05/2099 11:00", client="Future Date"),
        sp_row("03/02/2026 12:00", client="Two Payers", secondary="Horizon (22099)"),
        sp_row("03/02/2026 13:00", client="Unknown Payer", primary="Mystery Plan (MYS01)"),
    )
    assert {
        "no_insurance",
        "note_not_locked",
        "insurance_over",
        "future_date",
        "secondary_insurance",
        "unknown_payer",
        "unknown_clinician",
        "missing_member_id",
    } <= set(flags)
    assert flags["insurance_over"].severity == "critical"
    assert all(flag.holds_billing for flag in flags.values())


def test_fee_schedule_duration_and_ledger_flags(desk: Desk, known_payers, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance
    from revcycle.services import ledger
    from revcycle.services.actor import system_actor

    known_payers("Tricare East", "99727")
    schedule = m.FeeSchedule(practice_id=desk.practice.id, name="Standard", effective_on=date(2020, 1, 1))
    db.add(schedule)
    db.flush()
    db.add(
        m.FeeScheduleRate(
            practice_id=desk.practice.id,
            fee_schedule_id=schedule.id,
            procedure_code="90837",
            amount_cents=15000,
        )
    )
    db.flush()
    desk.load(sp_file(sp_row(fee="160.00")))
    (fee_flag,) = desk.flags("fee_differs")
    assert not fee_flag.holds_billing
    assert fee_flag.severity == "info"

    # The attendance report gives the duration: 40 minutes is too short for a 90837.
    service = db.scalars(select(m.ServiceSession)).one()
    service.duration_minutes = 40
    charge = service.charges[0]
    coverage = db.scalars(select(m.Coverage)).one()
    ledger.post_transaction(
        db,
        actor=system_actor("test"),
        practice_id=desk.practice.id,
        kind="charge",
        accounting_on=service.service_on,
        lines=charge_to_insurance(
            16000, ChargeRef(charge.id, service.client_id), InsuranceRef(coverage.id, coverage.payer_id)
        ),
    )
    # SimplePractice now says the insurance paid in full; the ledger has recorded no payment.
    desk.load(sp_file(sp_row(fee="160.00", insurance_status="PAID", insurance_figures="160,160,0")))

    (duration,) = desk.flags("duration_out_of_band")
    assert "90837 needs 53+ minutes; the session lasted 40" in duration.detail
    (disagrees,) = desk.flags("ledger_disagrees")
    assert not disagrees.holds_billing
    assert "insurance unpaid $0.00 in SimplePractice, $160.00 here" in disagrees.detail


def test_a_locked_note_in_a_later_export_settles_the_note_flag(desk: Desk) -> None:
    desk.load(sp_file(sp_row(note="DRAFT")))
    (flag,) = desk.flags("note_not_locked")

    batch = desk.load(sp_file(sp_row(note="LOCKED")))

    assert desk.rows(batch)[0].detail["diff"]["note_status"] == ["DRAFT", "LOCKED"]
    desk.db.refresh(flag)
    assert flag.status == "resolved"
    service = desk.db.scalars(select(m.ServiceSession)).one()
    assert service.note_status == "locked"
    assert service.note_locked_at is not None


def test_encodings_and_delimiters_of_the_samples_all_import(desk: Desk) -> None:
    for name in (
        "simplepractice_cp1252_semicolon.csv",
        "simplepractice_tab.csv",
        "simplepractice_utf8_bom_crlf.csv",
    ):
        batch = desk.stage(desk.sample(name), name)
        assert batch.format == "simplepractice"
        assert batch.counts["rows"] == 2
        assert batch.counts["rejected"] == 0
    names = desk.db.scalars(select(m.Client.last_name)).all()
    assert names == []  # staged only


def test_a_later_export_with_moved_columns_and_write_offs_imports(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))
    batch = desk.load(desk.sample("simplepractice_appointments_later.csv"))

    assert batch.counts["rows"] == 3
    assert batch.counts["rejected"] == 0
    notes = dict(
        desk.db.execute(
            select(m.Client.last_name, m.ServiceSession.note_status)
            .join(m.ServiceSession, m.ServiceSession.client_id == m.Client.id)
            .join(m.ImportRowOutcome, m.ImportRowOutcome.session_id == m.ServiceSession.id)
            .where(m.ImportRowOutcome.batch_id == batch.id)
        ).all()
    )
    assert notes == {"Smith": "locked", "Lopez": "none", "Kim": "draft"}


def test_an_unchanged_row_still_meets_a_ledger_that_moved_since(desk: Desk, db) -> None:  # type: ignore[no-untyped-def]
    from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance
    from revcycle.services import ledger
    from revcycle.services.actor import system_actor

    desk.load(sp_file(sp_row(insurance_status="PAID", insurance_figures="160,160,0")))
    service = db.scalars(select(m.ServiceSession)).one()
    coverage = db.scalars(select(m.Coverage)).one()
    ledger.post_transaction(
        db,
        actor=system_actor("test"),
        practice_id=desk.practice.id,
        kind="charge",
        accounting_on=service.service_on,
        lines=charge_to_insurance(
            16000,
            ChargeRef(service.charges[0].id, service.client_id),
            InsuranceRef(coverage.id, coverage.payer_id),
        ),
    )

    again = desk.load(sp_file(sp_row(insurance_status="PAID", insurance_figures="160,160,0")))

    assert again.counts["flagged"] == 1
    (flag,) = desk.flags("ledger_disagrees")
    assert not flag.holds_billing
    assert "insurance unpaid $0.00 in SimplePractice, $160.00 here" in flag.detail


def test_a_reordered_export_with_one_changed_row_updates_only_that_row(desk: Desk) -> None:
    rows = [sp_row(f"03/{day:02d}/2026 10:00") for day in range(1, 11)]
    desk.load(sp_file(*rows))
    changed = sp_row("03/05/2026 10:00", fee="170.00")

    batch = desk.load(sp_file(*reversed([*rows[:4], changed, *rows[5:]])))

    assert counts_of(batch) == {
        "rows": 10,
        "new": 0,
        "updated": 1,
        "unchanged": 9,
        "flagged": 0,
        "rejected": 0,
    }
    (updated,) = desk.rows(batch, "updated")
    assert updated.detail["diff"] == {
        "rate_cents": [16000, 17000],
        "fee_cents": [16000, 17000],
        "insurance_charge_cents": [16000, 17000],
        "insurance_unpaid_cents": [16000, 17000],
    }
    assert desk.count(m.Charge) == 10
