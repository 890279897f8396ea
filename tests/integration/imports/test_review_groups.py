"""The review queue in groups: one row per rule (or per subject a title names) with its count,
the flags behind it on expand, and "resolve all" for the resolutions that make sense in bulk —
each flag still resolved and audited on its own, all in one transaction."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, PermissionDenied
from revcycle.services.imports import review
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.imports.conftest import Desk, sp_file, sp_row
from tests.integration.world import PASSWORD, make_login_user

NOTE_TITLE = "Progress note not locked"


def _unlocked_week(count: int) -> bytes:
    """``count`` sessions whose notes are not locked, one client each, an hour apart."""
    return sp_file(
        *(
            sp_row(f"03/{2 + n // 8:02d}/2026 {9 + n % 8:02d}:00", client=f"Client {n:02d}", note="NO NOTE")
            for n in range(count)
        )
    )


def _groups(desk: Desk, **kwargs: object) -> dict[str, review.FlagGroup]:
    page = review.review_groups(desk.db, actor=desk.actor, practice_id=desk.practice.id, **kwargs)  # type: ignore[arg-type]
    return {group.title: group for group in page.items}


def _audit_entries(desk: Desk, ids: list[int]) -> dict[str, int]:
    rows = desk.db.execute(
        select(m.AuditLog.entity_id, func.count())
        .where(m.AuditLog.entity == "work_item", m.AuditLog.entity_id.in_([str(i) for i in ids]))
        .group_by(m.AuditLog.entity_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_forty_unlocked_notes_are_one_group_with_their_sessions_behind_it(desk: Desk) -> None:
    desk.load(_unlocked_week(40))

    groups = _groups(desk)

    notes = groups[NOTE_TITLE]
    assert (notes.rule, notes.count, notes.waiting, notes.holds_billing) == ("note_not_locked", 40, 0, True)
    assert notes.subject is None
    assert notes.bulk_resolutions == ("recheck_after_next_import",)
    assert len(desk.flags("note_not_locked")) == 40
    members = review.group_flags(desk.db, actor=desk.actor, groups=[notes], per_group=10)
    shown = members[(desk.practice.id, "note_not_locked", NOTE_TITLE)]
    assert len(shown) == 10
    times = [view.starts_at for view in shown]
    assert all(times)
    assert times == sorted(times)  # type: ignore[type-var]
    assert shown[0].client_name == "Client 00"
    assert shown[0].provider_name == "Alice Ng"
    flat = review.review_queue(
        desk.db, actor=desk.actor, practice_id=desk.practice.id, rule="note_not_locked", title=NOTE_TITLE
    )
    assert flat.total == 40


def test_titles_that_name_a_subject_are_groups_of_their_own(desk: Desk) -> None:
    desk.load(
        sp_file(
            sp_row("03/02/2026 10:00", client="Ann A", primary="Brand New Health (12345)"),
            sp_row("03/03/2026 10:00", client="Bo B", primary="Other Plan (67890)"),
        )
    )

    groups = _groups(desk, rule="unknown_payer")

    assert set(groups) == {"Unknown payer: Brand New Health (12345)", "Unknown payer: Other Plan (67890)"}
    brand_new = groups["Unknown payer: Brand New Health (12345)"]
    assert brand_new.subject == "Brand New Health (12345)"
    assert brand_new.bulk_resolutions == ("keep_new_payer",)


def test_flags_without_a_session_show_their_client_clinician_or_payer(desk: Desk, db: Session) -> None:
    client = f.make_client(db, desk.practice)
    provider = f.make_provider(db, desk.practice)
    payer = f.make_payer(db, name="Mystery Health")
    db.add_all(
        [
            _flag(desk, "missing_member_id", "Insurance member id missing", client_id=client.id),
            _flag(desk, "unknown_clinician", "Unknown clinician: Lee Park", provider_id=provider.id),
            _flag(desk, "unknown_payer", "Unknown payer: Mystery Health", payer_id=payer.id),
        ]
    )
    db.flush()

    page = review.review_queue(desk.db, actor=desk.actor, practice_id=desk.practice.id)

    views = {view.item.rule: view for view in page.items}
    assert page.total == 3
    assert all(view.starts_at is None for view in views.values())
    assert views["missing_member_id"].client_name == f"{client.first_name} {client.last_name}"
    assert views["unknown_clinician"].provider_name == f"{provider.first_name} {provider.last_name}"
    assert views["unknown_payer"].payer_name == "Mystery Health"
    assert views["unknown_payer"].about == "Mystery Health"
    assert set(_groups(desk)) == {
        "Insurance member id missing",
        "Unknown clinician: Lee Park",
        "Unknown payer: Mystery Health",
    }


def _flag(desk: Desk, rule: str, title: str, **about: int) -> m.WorkItem:
    return m.WorkItem(
        practice_id=desk.practice.id,
        kind="flag",
        severity="warning",
        status="open",
        title=title,
        rule=rule,
        dedupe_key=f"import:{rule}:{title}",
        holds_billing=True,
        **about,
    )


def test_resolving_a_group_resolves_and_audits_each_flag_on_its_own(desk: Desk) -> None:
    desk.load(_unlocked_week(12))
    ids = [flag.id for flag in desk.flags("note_not_locked")]

    settled = review.resolve_group(
        desk.db,
        actor=desk.actor,
        practice_id=desk.practice.id,
        rule="note_not_locked",
        title=NOTE_TITLE,
        resolution="recheck_after_next_import",
        note="notes due Friday",
    )

    assert sorted(flag.id for flag in settled) == ids
    for flag in desk.flags("note_not_locked"):
        assert flag.status == "acknowledged"
        assert flag.resolution == "recheck_after_next_import: notes due Friday"
        assert flag.resolved_by_user_id == desk.user.id
    assert _audit_entries(desk, ids) == {str(i): 1 for i in ids}
    assert _groups(desk)[NOTE_TITLE].waiting == 12
    # Waiting flags need nothing more: the group has nothing left to recheck.
    with pytest.raises(Conflict, match="no open flags left"):
        review.resolve_group(
            desk.db,
            actor=desk.actor,
            practice_id=desk.practice.id,
            rule="note_not_locked",
            title=NOTE_TITLE,
            resolution="recheck_after_next_import",
        )


def test_a_group_takes_only_resolutions_that_make_sense_in_bulk(desk: Desk, db: Session) -> None:
    desk.load(sp_file(sp_row(primary="--"), sp_row("03/03/2026 10:00", primary="--", client="Other One")))
    title = desk.flags("no_insurance")[0].title
    for resolution in ("mark_self_pay", "coverage_added", "nonsense"):
        with pytest.raises(InvalidInput, match="cannot settle a group"):
            review.resolve_group(
                desk.db,
                actor=desk.actor,
                practice_id=desk.practice.id,
                rule="no_insurance",
                title=title,
                resolution=resolution,
            )
    with pytest.raises(InvalidInput, match="not an import flag rule"):
        review.resolve_group(
            desk.db,
            actor=desk.actor,
            practice_id=desk.practice.id,
            rule="x",
            title="x",
            resolution="acknowledge",
        )
    therapist = f.actor_for(db, f.make_user(db, desk.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        review.resolve_group(
            db,
            actor=therapist,
            practice_id=desk.practice.id,
            rule="no_insurance",
            title=title,
            resolution="acknowledge",
        )
    assert len(desk.flags("no_insurance")) == 2


def test_resolving_several_flags_is_all_or_nothing(desk: Desk) -> None:
    desk.load(_unlocked_week(3))
    desk.load(sp_file(sp_row("01/05/2099 10:00", client="Future Fay")))
    notes = desk.flags("note_not_locked")
    (future,) = desk.flags("future_date")
    before = desk.count(m.AuditLog)

    # "acknowledge" settles a future date, not a note: the lot is refused.
    with pytest.raises(InvalidInput):
        review.resolve_flags(
            desk.db,
            actor=desk.actor,
            work_item_ids=[future.id, *(n.id for n in notes)],
            resolution="acknowledge",
        )

    assert desk.count(m.AuditLog) == before
    desk.db.refresh(future)
    assert future.status == "open"
    assert all(flag.status == "open" for flag in desk.flags("note_not_locked"))


def test_a_single_flag_in_a_group_still_resolves_on_its_own(desk: Desk) -> None:
    desk.load(_unlocked_week(3))
    first, *rest = desk.flags("note_not_locked")

    review.resolve_flag(
        desk.db, actor=desk.actor, work_item_id=first.id, resolution="recheck_after_next_import"
    )

    assert first.status == "acknowledged"
    assert [flag.status for flag in rest] == ["open", "open"]
    group = _groups(desk)[NOTE_TITLE]
    assert (group.count, group.waiting) == (3, 1)


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def api(client: TestClient, db: Session) -> tuple[Desk, dict[str, str]]:
    practice = f.make_practice(db, timezone="America/New_York")
    user = make_login_user(db, practice, Role.BILLING, name="group-desk")
    return Desk(db, practice, user, f.actor_for(db, user)), bearer(client, user.email)


def test_groups_and_group_resolution_through_the_api(client: TestClient, api) -> None:  # type: ignore[no-untyped-def]
    desk, headers = api
    desk.load(_unlocked_week(6))

    listed = client.get("/api/review-groups", headers=headers)

    assert listed.status_code == 200, listed.text
    groups = {g["title"]: g for g in listed.json()["items"]}
    notes = groups[NOTE_TITLE]
    assert (notes["count"], notes["bulk_resolutions"]) == (6, ["recheck_after_next_import"])
    flags = client.get(notes["flags_url"], headers=headers).json()
    assert flags["total"] == 6
    assert {flag["rule"] for flag in flags["items"]} == {"note_not_locked"}
    missing_member = client.get("/api/review?rule=missing_member_id", headers=headers).json()["items"]
    assert all(flag["session_id"] is None and flag["client_name"] for flag in missing_member)

    resolved = client.post(
        "/api/review-groups/resolve",
        headers=headers,
        json={"rule": "note_not_locked", "title": NOTE_TITLE, "resolution": "recheck_after_next_import"},
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved"] == 6
    assert len(resolved.json()["work_item_ids"]) == 6
    again = client.post(
        "/api/review-groups/resolve",
        headers=headers,
        json={"rule": "note_not_locked", "title": NOTE_TITLE, "resolution": "recheck_after_next_import"},
    )
    assert again.status_code == 409
    refused = client.post(
        "/api/review-groups/resolve",
        headers=headers,
        json={"rule": "no_insurance", "title": "x", "resolution": "mark_self_pay"},
    )
    assert refused.status_code == 422


# --- the page -------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client: TestClient, db: Session) -> tuple[Desk, str]:
    practice = f.make_practice(db, timezone="America/New_York")
    user = make_login_user(db, practice, Role.BILLING, name="page-desk")
    assert login(client, user.email, PASSWORD).status_code == 303
    return Desk(db, practice, user, f.actor_for(db, user)), csrf_from(client.get("/imports").text)


def _group_count(html: str, title: str) -> int | None:
    found = re.search(rf'data-group-title="{re.escape(title)}" data-group-count="(\d+)"', html)
    return int(found.group(1)) if found else None


def test_the_page_shows_groups_and_resolves_one_in_a_click(client: TestClient, signed_in) -> None:  # type: ignore[no-untyped-def]
    desk, token = signed_in
    desk.load(_unlocked_week(14))

    page = client.get("/review").text

    assert _group_count(page, NOTE_TITLE) == 14
    assert page.count('data-flag-rule="note_not_locked"') == 10  # the first ten behind the group
    assert 'data-testid="group-all"' in page
    assert 'data-bulk-resolution="recheck_after_next_import"' in page
    one_by_one = client.get("/review", params={"rule": "note_not_locked", "title": NOTE_TITLE}).text
    assert one_by_one.count('data-flag-rule="note_not_locked"') == 14
    assert 'data-testid="group-header"' in one_by_one

    answer = client.post(
        "/review/resolve-group",
        data={
            "csrf_token": token,
            "rule": "note_not_locked",
            "title": NOTE_TITLE,
            "resolution": "recheck_after_next_import",
        },
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert f"Done: 14 flags “{NOTE_TITLE}” — Recheck after next import." in answer.text
    assert {flag.status for flag in desk.flags("note_not_locked")} == {"acknowledged"}
    assert "14 waiting for the next import" in answer.text
    # Nothing left to recheck among the notes; the one such button left is the member-id
    # group's (14 clients without a member id, one flag each, one group).
    assert answer.text.count("Recheck after next import — all 14") == 1
    assert _group_count(answer.text, "Insurance member id missing") == 14


def test_a_plain_form_resolves_a_group_and_comes_back_with_the_message(client: TestClient, signed_in) -> None:  # type: ignore[no-untyped-def]
    desk, token = signed_in
    desk.load(sp_file(sp_row("01/05/2099 10:00"), sp_row("01/06/2099 10:00", client="Sam Later")))
    title = desk.flags("future_date")[0].title

    answer = client.post(
        "/review/resolve-group",
        data={"csrf_token": token, "rule": "future_date", "title": title, "resolution": "acknowledge"},
    )

    assert answer.status_code == 303
    back = client.get(answer.headers["location"]).text
    assert f"Done: 2 flags “{title}” — Acknowledge." in back
    assert _group_count(back, title) is None
    refused = client.post(
        "/review/resolve-group",
        data={"csrf_token": token, "rule": "future_date", "title": title, "resolution": "acknowledge"},
    )
    assert refused.status_code == 409
    assert "no open flags left" in refused.text


def test_resolving_one_flag_from_inside_a_group(client: TestClient, signed_in) -> None:  # type: ignore[no-untyped-def]
    desk, token = signed_in
    desk.load(_unlocked_week(3))
    first = desk.flags("note_not_locked")[0]

    answer = client.post(
        f"/review/{first.id}/resolve",
        data={"csrf_token": token, "resolution": "recheck_after_next_import"},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "Done: Progress note not locked" in answer.text
    assert _group_count(answer.text, NOTE_TITLE) == 3
    assert "1 waiting for the next import" in answer.text
