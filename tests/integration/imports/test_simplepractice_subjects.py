"""SimplePractice import: flags about a clinician, client or payer; where and when sessions
happened; windows of dates staged and chunks committed without changing the outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.services.imports import review, simplepractice
from revcycle.services.sessions import session_facts
from tests.integration.imports.conftest import Desk, counts_of, sp_file, sp_row


def _held(desk: Desk) -> dict[str, bool]:
    sessions = list(desk.db.scalars(select(m.ServiceSession).order_by(m.ServiceSession.starts_at)))
    facts = session_facts(desk.db, sessions)
    return {f"{s.service_on:%m/%d}": facts[s.id].has_holding_flag for s in sessions}


def test_a_new_clinician_is_one_flag_that_holds_all_their_sessions_until_resolved(desk: Desk) -> None:
    rows = [sp_row(f"03/0{day}/2026 10:00", client=f"Client {day}") for day in range(2, 7)]
    batch = desk.load(sp_file(*rows))

    assert batch.counts["new_flags_about"]["unknown_clinician"] == 1
    (flag,) = desk.flags("unknown_clinician")
    assert flag.session_id is None
    assert flag.provider_id == desk.db.scalars(select(m.Provider.id)).one()
    # The member ids are missing too (one flag per client): settle those first.
    for member in desk.flags("missing_member_id"):
        review.resolve_flag(
            desk.db, actor=desk.actor, work_item_id=member.id, resolution="add_member_id", value="M1"
        )
    for payer in desk.flags("unknown_payer"):
        review.resolve_flag(desk.db, actor=desk.actor, work_item_id=payer.id, resolution="keep_new_payer")
    assert set(_held(desk).values()) == {True}

    review.resolve_flag(desk.db, actor=desk.actor, work_item_id=flag.id, resolution="keep_new_clinician")

    assert set(_held(desk).values()) == {False}


def test_an_unknown_payer_holds_the_sessions_of_the_clients_it_covers(desk: Desk, known_payers) -> None:  # type: ignore[no-untyped-def]
    known_payers("Tricare East", "99727")
    desk.load(
        sp_file(
            sp_row("03/02/2026 10:00", client="Ann Covered", primary="Tricare East (99727)"),
            sp_row("03/03/2026 10:00", client="Bo Unknown", primary="Brand New Health (12345)"),
        )
    )
    for flag in desk.flags("missing_member_id") + desk.flags("unknown_clinician"):
        resolution = "add_member_id" if flag.rule == "missing_member_id" else "keep_new_clinician"
        review.resolve_flag(
            desk.db, actor=desk.actor, work_item_id=flag.id, resolution=resolution, value="M1"
        )

    (payer_flag,) = desk.flags("unknown_payer")
    assert payer_flag.title == "Unknown payer: Brand New Health (12345)"
    assert _held(desk) == {"03/02": False, "03/03": True}


def test_a_payer_id_of_letters_matches_the_catalog_and_a_plan_type_stays_a_name(
    desk: Desk, known_payers
) -> None:  # type: ignore[no-untyped-def]
    oscar = known_payers("Oscar Health", "OSCAR")
    batch = desk.load(
        sp_file(
            sp_row("03/02/2026 10:00", client="Ann A", primary="Oscar Health (OSCAR)"),
            sp_row("03/03/2026 10:00", client="Bo B", primary="Aetna (PPO)"),
        )
    )

    titles = [flag.title for flag in desk.flags("unknown_payer")]
    assert titles == ["Unknown payer: Aetna (PPO)"]
    assert batch.counts["new_flags_about"]["unknown_payer"] == 1
    ann = desk.db.scalars(select(m.Coverage).join(m.Client).where(m.Client.last_name == "A")).one()
    assert ann.payer_id == oscar.id


def test_new_sessions_take_the_default_location_and_the_upload_time_of_a_locked_note(desk: Desk) -> None:
    office = m.ServiceLocation(practice_id=desk.practice.id, name="Office", place_of_service="11")
    video = m.ServiceLocation(practice_id=desk.practice.id, name="Video", place_of_service="10")
    desk.db.add_all([office, video])
    desk.db.flush()
    desk.practice.settings = {**desk.practice.settings, "default_location_id": video.id}
    desk.db.flush()

    batch = desk.load(
        sp_file(sp_row(note="LOCKED"), sp_row("03/03/2026 10:00", client="Drafty", note="DRAFT"))
    )

    by_note = {s.note_status: s for s in desk.db.scalars(select(m.ServiceSession))}
    assert {(s.location_id, s.place_of_service) for s in by_note.values()} == {(video.id, "10")}
    assert by_note["locked"].note_locked_at == batch.created_at
    assert by_note["draft"].note_locked_at is None
    coverage = desk.db.scalars(select(m.Coverage).join(m.Client).where(m.Client.last_name == "Smith")).one()
    assert (
        coverage.relationship_to_subscriber,
        coverage.subscriber_first_name,
        coverage.subscriber_last_name,
    ) == (
        "self",
        "Jordan",
        "Smith",
    )


def test_a_date_is_in_the_future_against_the_upload_day(desk: Desk) -> None:
    batch = desk.stage(sp_file(sp_row("03/02/2026 10:00")))
    tomorrow = batch.created_at + timedelta(days=2)
    later = desk.stage(sp_file(sp_row(f"{tomorrow:%m/%d/%Y} 10:00", client="Future Client")))

    rules = [flag["rule"] for row in desk.rows(later) for flag in row.detail.get("flags", [])]
    assert "future_date" in rules
    assert "future_date" not in [
        flag["rule"] for row in desk.rows(batch) for flag in row.detail.get("flags", [])
    ]


def _week(add_on_day: int = 3) -> bytes:
    rows = []
    for day in range(2, 9):
        for hour in (9, 11):
            rows.append(sp_row(f"03/{day:02d}/2026 {hour}:00", client=f"Client {day}-{hour}"))
    # An add-on code on its own row, far from its session in the file: it joins it.
    rows.append(sp_row(f"03/{add_on_day:02d}/2026 9:00", client=f"Client {add_on_day}-9", code="90785"))
    rows.append(sp_row("03/05/2026 11:00", client="Client 5-11"))  # a duplicate, windows apart
    return sp_file(*rows[::-1])  # newest first, as SimplePractice lists them


def test_small_windows_and_commit_chunks_give_the_same_result(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simplepractice, "_WINDOW_ROWS", 3)
    monkeypatch.setattr(simplepractice, "_CHUNK", 2)  # commits 4 outcome rows at a time

    batch = desk.load(_week())

    assert counts_of(batch) == {
        "rows": 16,
        "new": 15,
        "updated": 0,
        "unchanged": 0,
        "flagged": 1,
        "rejected": 0,
    }
    assert desk.count(m.ServiceSession) == 14
    assert desk.count(m.Charge) == 15  # the add-on joined its session; the duplicate waits
    assert len(desk.flags("possible_duplicate")) == 1
    add_on = desk.db.scalars(select(m.Charge).where(m.Charge.procedure_code == "90785")).one()
    assert len(add_on.session.charges) == 2
    assert all(row.session_id is not None for row in desk.rows(batch))

    again = desk.load(_week())
    assert counts_of(again)["unchanged"] == 16
    assert desk.count(m.Charge) == 15
