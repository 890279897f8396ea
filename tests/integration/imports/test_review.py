"""The review queue and its one-click resolutions; merging two clients that are one person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, PermissionDenied
from revcycle.services.imports import review
from tests import factories as f
from tests.integration.imports.conftest import Desk, sp_file, sp_row


def _resolve(desk: Desk, flag: m.WorkItem, resolution: str, **kwargs: str) -> m.WorkItem:
    return review.resolve_flag(
        desk.db, actor=desk.actor, work_item_id=flag.id, resolution=resolution, **kwargs
    )


def _audited(desk: Desk, flag: m.WorkItem) -> m.AuditLog:
    return desk.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "work_item", m.AuditLog.entity_id == str(flag.id))
    ).one()


def test_the_queue_lists_open_flags_with_their_sessions_and_resolutions(desk: Desk) -> None:
    desk.load(sp_file(sp_row(primary="--", client="Jo Self")))
    page = review.review_queue(desk.db, actor=desk.actor, practice_id=desk.practice.id, rule="no_insurance")
    (view,) = page.items
    assert view.client_name == "Jo Self"
    assert view.provider_name == "Alice Ng"
    assert view.resolutions == ("mark_self_pay", "coverage_added")
    assert view.starts_at is not None


def test_mark_self_pay_settles_a_billable_code_with_no_insurance(desk: Desk) -> None:
    desk.load(sp_file(sp_row(primary="--")))
    (flag,) = desk.flags("no_insurance")

    _resolve(desk, flag, "mark_self_pay", note="pays privately")

    assert flag.status == "resolved"
    assert flag.resolution == "mark_self_pay: pays privately"
    assert flag.resolved_by_user_id == desk.user.id
    assert desk.db.get_one(m.ServiceSession, flag.session_id).self_pay
    entry = _audited(desk, flag)
    assert entry.after is not None
    assert entry.after["effect"]["self_pay"] is True
    # The next import does not raise it again: the session is self-pay now.
    desk.load(sp_file(sp_row(primary="--", fee="170.00")))
    assert desk.flags("no_insurance") == []


def test_mapping_an_unknown_payer_makes_an_alias_and_settles_its_other_flags(
    desk: Desk, known_payers
) -> None:  # type: ignore[no-untyped-def]
    tricare = known_payers("Tricare East", "99727")
    desk.load(
        sp_file(sp_row(primary="TRICARE E (T9999)"), sp_row("03/03/2026 10:00", primary="TRICARE E (T9999)"))
    )
    flags = desk.flags("unknown_payer")
    assert len(flags) == 1  # one flag for the payer, whatever the rows naming it

    _resolve(desk, flags[0], "map_to_payer", value=str(tricare.id))

    assert desk.flags("unknown_payer") == []
    assert {c.payer_id for c in desk.db.scalars(select(m.Coverage))} == {tricare.id}
    alias = desk.db.scalars(select(m.PayerAlias).where(m.PayerAlias.normalized == "tricare e")).one()
    assert alias.payer_id == tricare.id
    with pytest.raises(InvalidInput):
        _resolve(desk, desk.flags("missing_member_id")[0], "map_to_payer", value="1")


def test_adding_a_member_id_fills_the_coverage_and_settles_the_clients_flags(
    desk: Desk, known_payers
) -> None:  # type: ignore[no-untyped-def]
    known_payers("Tricare East", "99727")
    desk.load(sp_file(sp_row(), sp_row("03/03/2026 10:00")))
    flags = desk.flags("missing_member_id")
    assert len(flags) == 1  # one flag for the client's coverage, not one per session

    _resolve(desk, flags[0], "add_member_id", value="TRI123456")

    assert desk.db.scalars(select(m.Coverage.member_id)).one() == "TRI123456"
    assert desk.flags("missing_member_id") == []


def test_keep_both_duplicates_adds_a_repeat_charge_and_keep_one_adds_nothing(desk: Desk) -> None:
    desk.load(sp_file(sp_row(), sp_row(), sp_row("03/03/2026 10:00"), sp_row("03/03/2026 10:00")))
    first, second = desk.flags("possible_duplicate")

    _resolve(desk, first, "keep_both")
    _resolve(desk, second, "keep_one")

    charges = desk.db.execute(select(m.Charge.session_id, m.Charge.modifiers).order_by(m.Charge.id)).all()
    assert sorted(mod for _s, mod in charges) == ["", "", "76"]
    # Re-importing the same file: the repeat charge matches the second row; nothing new.
    again = desk.load(sp_file(sp_row(), sp_row(), sp_row("03/03/2026 10:00"), sp_row("03/03/2026 10:00")))
    assert again.counts["unchanged"] == 4
    assert desk.count(m.Charge) == 3


def test_recheck_after_next_import_keeps_the_hold_until_the_ehr_says_locked(desk: Desk) -> None:
    desk.load(sp_file(sp_row(note="NO NOTE")))
    (flag,) = desk.flags("note_not_locked")

    _resolve(desk, flag, "recheck_after_next_import")

    assert flag.status == "acknowledged"
    assert flag.holds_billing
    desk.load(sp_file(sp_row(note="LOCKED")))
    desk.db.refresh(flag)
    assert flag.status == "resolved"


def test_resolutions_are_checked(desk: Desk, db) -> None:  # type: ignore[no-untyped-def]
    desk.load(sp_file(sp_row("01/05/2099 10:00")))
    (flag,) = desk.flags("future_date")
    with pytest.raises(InvalidInput, match="choose acknowledge"):
        _resolve(desk, flag, "mark_self_pay")
    therapist = f.make_user(db, desk.practice, Role.THERAPIST)
    with pytest.raises(PermissionDenied):
        review.resolve_flag(
            db, actor=f.actor_for(db, therapist), work_item_id=flag.id, resolution="acknowledge"
        )
    _resolve(desk, flag, "acknowledge")
    with pytest.raises(Conflict, match="already resolved"):
        _resolve(desk, flag, "acknowledge")


def test_merging_two_clients_moves_their_records_and_is_audited(desk: Desk) -> None:
    desk.load(sp_file(sp_row(client="Chris Lee"), sp_row("03/03/2026 10:00", client="Christopher Lee")))
    keep = desk.db.scalars(select(m.Client).where(m.Client.first_name == "Chris")).one()
    merge = desk.db.scalars(select(m.Client).where(m.Client.first_name == "Christopher")).one()

    review.merge_clients(desk.db, actor=desk.actor, keep_id=keep.id, merge_id=merge.id)

    assert merge.merged_into_id == keep.id
    assert set(desk.db.scalars(select(m.ServiceSession.client_id))) == {keep.id}
    assert set(desk.db.scalars(select(m.Coverage.client_id))) == {keep.id}
    entry = desk.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "client", m.AuditLog.entity_id == str(merge.id))
    ).one()
    assert entry.client_ids == sorted([keep.id, merge.id])
    assert entry.after is not None
    assert entry.after["moved"]["sessions"] == 1
    # A later export under the merged name lands on the kept client.
    again = desk.load(
        sp_file(sp_row(client="Chris Lee"), sp_row("03/03/2026 10:00", client="Christopher Lee"))
    )
    assert again.counts["unchanged"] == 2
    with pytest.raises(Conflict):
        review.merge_clients(desk.db, actor=desk.actor, keep_id=keep.id, merge_id=merge.id)
