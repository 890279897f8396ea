"""The batch's life (stage, commit, discard), refusals of bad files, and all-or-nothing commits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.adapters.csv import ImportFormat
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services.actor import Actor
from revcycle.services.imports import batches
from revcycle.services.imports.simplepractice import SimplePracticeHandler
from tests import factories as f
from tests.integration.imports.conftest import SP_HEADER, Desk, counts_of, sp_file, sp_row


def _refused(desk: Desk, data: bytes, filename: str = "bad.csv", **kwargs: Any) -> InvalidInput:
    before = desk.counts()
    with pytest.raises(InvalidInput) as refused:
        desk.stage(data, filename, **kwargs)
    assert desk.counts() == before, "a refused file must write nothing"
    return refused.value


def test_not_a_csv_is_refused_naming_the_file(desk: Desk) -> None:
    error = _refused(desk, b"%PDF-1.7 binary", "scan.pdf")
    assert error.detail == "scan.pdf: is not a CSV file: it is a PDF document"


def test_an_empty_file_is_refused(desk: Desk) -> None:
    assert _refused(desk, b"\n\n  \n", "empty.csv").detail == "empty.csv: is empty"


def test_an_unknown_format_without_a_mapping_names_the_header_and_suggests_mappings(desk: Desk) -> None:
    error = _refused(desk, b"Visit Date,Patient,CPT Code,Fee\n03/02/2026,Jo Smith,90837,150\n", "other.csv")
    assert error.detail.startswith(
        'other.csv: the format is not recognised from the header row 1 ("Visit Date"'
    )
    assert "Closest guesses" in error.detail
    assert error.problems
    guesses = batches.suggest_mapping(b"Visit Date,Patient,CPT Code,Fee\n", filename="other.csv")
    assert guesses[0].columns  # the best guess maps some columns


def test_a_missing_required_column_is_refused_naming_it(desk: Desk) -> None:
    header = SP_HEADER.replace("Clinician,", "")
    error = _refused(desk, (header + "\n").encode(), "week.csv", format=ImportFormat.SIMPLEPRACTICE)
    assert error.detail.startswith('week.csv row 1, column "Clinician": is missing from the header')


def test_undecodable_bytes_are_refused_naming_the_row(desk: Desk) -> None:
    data = sp_file(sp_row(client="José Núñez")) + b"03/03/2026 10:00,\x81\x8d\x8f,Alice Ng\n"
    error = _refused(desk, data, "mixed.csv")
    assert error.detail.startswith("mixed.csv row 3:")
    assert "mixes encodings" in error.detail or "neither UTF-8" in error.detail


def test_ragged_rows_are_refused_naming_row_and_column(desk: Desk) -> None:
    data = sp_file(sp_row(), "03/03/2026 10:00,Jo Smith,Alice Ng")
    error = _refused(desk, data, "ragged.csv")
    assert error.detail.startswith('ragged.csv row 3, column "Billing Code": is missing')


def test_impossible_dates_and_amounts_reject_their_rows_with_file_row_column_and_value(desk: Desk) -> None:
    before = desk.counts()
    data = sp_file(sp_row("02/30/2026 10:00"), sp_row(fee="12.3.4"), sp_row("03/05/2026 10:00"))

    batch = desk.stage(data, "week.csv")

    assert counts_of(batch)["rejected"] == 2
    rejected = desk.rows(batch, "rejected")
    assert (
        rejected[0]
        .detail["reason"]
        .startswith(
            'week.csv row 2, column "Date of Service": "02/30/2026 10:00" is not a date on the calendar'
        )
    )
    assert 'week.csv row 3, column "Rate per Unit": "12.3.4" is not an amount' in rejected[1].detail["reason"]
    after = desk.counts()
    for table in ("clients", "sessions", "charges", "work_items"):
        assert after[table] == before[table]  # staging writes nothing live
    desk.commit(batch)
    assert desk.count(m.Charge) == 1  # only the good row is applied


class _FailingHandler(SimplePracticeHandler):
    """Writes clients, sessions, charges ... then fails while writing the flags."""

    def write_flags(self, session: Session, **kwargs: Any) -> None:  # type: ignore[override]
        super().write_flags(session, **kwargs)
        raise RuntimeError("disk full")


def test_a_fault_part_way_through_a_commit_leaves_no_row_of_the_batch_applied(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = desk.stage(desk.sample("simplepractice_appointments.csv"))
    before = desk.counts()
    monkeypatch.setitem(batches.HANDLERS, ImportFormat.SIMPLEPRACTICE, _FailingHandler())

    with pytest.raises(RuntimeError, match="disk full"):
        desk.commit(batch)

    assert desk.counts() == before
    desk.db.refresh(batch)
    assert batch.status == "staged"
    monkeypatch.setitem(batches.HANDLERS, ImportFormat.SIMPLEPRACTICE, SimplePracticeHandler())
    desk.commit(batch)
    assert desk.count(m.ServiceSession) == 4


def test_only_staged_batches_commit_or_discard(desk: Desk) -> None:
    batch = desk.load(sp_file(sp_row()))
    with pytest.raises(Conflict, match="already committed"):
        desk.commit(batch)
    with pytest.raises(Conflict):
        batches.discard_import(desk.db, actor=desk.actor, batch_id=batch.id)


def test_discard_drops_the_batch_and_writes_nothing_live(desk: Desk) -> None:
    batch = desk.stage(sp_file(sp_row()))
    before = desk.counts()

    batches.discard_import(desk.db, actor=desk.actor, batch_id=batch.id)

    assert batch.status == "discarded"
    assert batch.counts["committed"] is False
    after = desk.counts()
    assert after["sessions"] == before["sessions"]
    assert after["audit_log"] == before["audit_log"] + 1


def test_stage_and_commit_are_audited_once_per_batch(desk: Desk) -> None:
    batch = desk.load(sp_file(*(sp_row(f"03/{day:02d}/2026 10:00") for day in range(1, 21))))
    entries = desk.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "import_batch", m.AuditLog.entity_id == str(batch.id))
    ).all()
    assert [(e.action, e.actor_user_id) for e in entries] == [
        ("create", desk.user.id),
        ("update", desk.user.id),
    ]
    assert entries[0].after is not None
    assert entries[0].after["rows"] == 20
    assert entries[1].after is not None
    assert entries[1].after["status"] == "committed"


def test_roles_without_enter_charges_and_other_practices_are_refused(desk: Desk, db: Session) -> None:
    therapist = f.make_user(db, desk.practice, Role.THERAPIST)
    with pytest.raises(PermissionDenied):
        batches.stage_import(
            db,
            actor=f.actor_for(db, therapist),
            practice_id=desk.practice.id,
            filename="a.csv",
            data=sp_file(sp_row()),
        )
    batch = desk.stage(sp_file(sp_row()))
    stranger = f.make_user(db, f.make_practice(db), Role.BILLING)
    with pytest.raises(NotFound):
        batches.commit_import(db, actor=f.actor_for(db, stranger), batch_id=batch.id)
    with pytest.raises(NotFound):
        batches.get_batch(db, actor=Actor(None, {}), batch_id=batch.id)


def test_a_saved_mapping_reads_another_csv_as_a_known_format(desk: Desk) -> None:
    data = (
        b"Visit,Patient Name,Therapist,CPT,Plan,Fee,Units,Patient Status\n"
        b"03/02/2026 10:00,Jo Smith,Alice Ng,90837,Aetna (60054),150.00,1,UNPAID\n"
    )
    with pytest.raises(InvalidInput):
        batches.stage_import(
            desk.db,
            actor=desk.actor,
            practice_id=desk.practice.id,
            filename="x.csv",
            data=data,
            mapping_name="nope",
        )
    columns = {
        "service_at": "Visit",
        "client_name": "Patient Name",
        "clinician_name": "Therapist",
        "billing_code": "CPT",
        "primary_payer": "Plan",
        "secondary_payer": "Plan",
        "rate_per_unit": "Fee",
        "units": "Units",
        "total_fee": "Fee",
        "client_payment_status": "Patient Status",
        "client_charge": "Fee",
        "client_uninvoiced": "Fee",
        "client_paid": "Fee",
        "client_unpaid": "Fee",
        "insurance_payment_status": "Patient Status",
        "insurance_charge": "Fee",
        "insurance_paid": "Fee",
        "insurance_unpaid": "Fee",
    }
    with pytest.raises(InvalidInput, match="has no field nonsense"):
        batches.save_mapping(
            desk.db,
            actor=desk.actor,
            practice_id=desk.practice.id,
            name="old-ehr",
            target=ImportFormat.SIMPLEPRACTICE,
            columns={**columns, "nonsense": "Fee"},
        )
    batches.save_mapping(
        desk.db,
        actor=desk.actor,
        practice_id=desk.practice.id,
        name="old-ehr",
        target=ImportFormat.SIMPLEPRACTICE,
        columns=columns,
    )

    batch = desk.load(data, "old.csv", mapping_name="old-ehr")

    assert batch.format == "simplepractice"
    assert (
        batch.mapping_id
        == batches.get_mapping(desk.db, actor=desk.actor, practice_id=desk.practice.id, name="old-ehr").id
    )
    assert counts_of(batch)["rows"] == 1
    assert desk.db.scalars(select(m.Charge.fee_cents)).all() == [15000]


def test_the_ar_portfolio_is_dispatched_to_its_handler(desk: Desk) -> None:
    import importlib.util

    if importlib.util.find_spec("revcycle.services.imports.ar_portfolio") is None:
        with pytest.raises(InvalidInput, match="AR portfolio import is not available yet"):
            desk.stage(desk.sample("ar_aging.csv"), "ar.csv")
        return
    assert batches.handler_for(ImportFormat.AR_AGING).format is ImportFormat.AR_AGING


def test_lists_and_previews_filter(desk: Desk) -> None:
    batch = desk.stage(sp_file(sp_row(), sp_row(fee="x")))
    page = batches.list_batches(desk.db, actor=desk.actor, practice_id=desk.practice.id)
    assert [b.id for b in page.items] == [batch.id]
    assert [r.row_number for r in desk.rows(batch, "rejected")] == [3]
    with pytest.raises(InvalidInput):
        desk.rows(batch, "weird")
