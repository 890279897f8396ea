"""The sessions list, session detail, claim tracker and claim detail pages, signed in as a
billing specialist of the `office` practice (SQLite and PostgreSQL): filters, tabs, search,
paging, the CSV export, bulk Mark ready and bulk submit, each session action with its
refusals, and the claim detail's forms."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.claims_pipeline import building
from revcycle.services.submissions import record_submissions
from tests import factories as f
from tests.integration.claims.conftest import TODAY, Office
from tests.integration.conftest import csrf_from, login
from tests.integration.world import PASSWORD, password_hash

# The pages scrub with the real date: a filing limit far beyond it keeps March 2026 timely.
FILING_DAYS = 3650


@pytest.fixture
def billing(office: Office, client: TestClient) -> TestClient:
    office.user.password_hash = password_hash()
    office.settings.timely_filing_days = FILING_DAYS
    office.db.flush()
    assert login(client, office.user.email, PASSWORD).status_code == 303
    return client


def persona(office: Office, client: TestClient, role: Role) -> m.User:
    """Another person of the practice, signed in on ``client``."""
    user = f.make_user(office.db, office.practice, role)
    user.password_hash = password_hash()
    office.db.flush()
    assert login(client, user.email, PASSWORD).status_code == 303
    return user


def token(client: TestClient, path: str = "/sessions") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


def session_ids_on(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-session-id="(\d+)"', html)]


def claim_ids_on(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-claim-id="(\d+)"', html)]


def ready_claims(office: Office, count: int) -> list[m.Claim]:
    services = [office.visit(9, day=day) for day in range(2, 2 + count)]
    building.mark_sessions_ready(office.db, actor=office.actor, session_ids=[s.id for s in services])
    built = building.build_claims(office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY)
    return [b.claim for b in built.claims]


# --- the sessions list ------------------------------------------------------------------------


def test_sessions_filter_by_client_payer_dates_and_stage(office: Office, billing: TestClient) -> None:
    other_client = f.make_client(office.db, office.practice)
    other_client.first_name, other_client.last_name = "Quinn", "Zephyr"
    other_payer = f.make_payer(office.db, name="Cigna")
    f.make_coverage(office.db, other_client, other_payer)
    mine = office.visit(10, day=2)
    theirs = f.make_session(
        office.db,
        office.practice,
        other_client,
        office.provider,
        starts_at=datetime(2026, 3, 9, 15, tzinfo=UTC),
        note_status="draft",
    )
    everyone = session_ids_on(billing.get("/sessions").text)
    assert set(everyone) == {mine.id, theirs.id}
    assert session_ids_on(billing.get("/sessions", params={"client": "zephyr"}).text) == [theirs.id]
    assert session_ids_on(billing.get("/sessions", params={"client": "quinn zeph"}).text) == [theirs.id]
    assert session_ids_on(billing.get("/sessions", params={"payer_id": other_payer.id}).text) == [theirs.id]
    dates = {"since": "2026-03-01", "until": "2026-03-05"}
    assert session_ids_on(billing.get("/sessions", params=dates).text) == [mine.id]
    documented = billing.get("/sessions", params={"stage": "documented"}).text
    assert session_ids_on(documented) == [mine.id]
    tabs = re.findall(
        r'data-stage="(\w+)"[^>]*>[^<]*<span class="badge text-bg-light" data-count>(\d+)<', documented
    )
    assert dict(tabs) == {"completed": "1", "documented": "1"}
    refused = billing.get("/sessions", params={"since": "March"})
    assert refused.status_code == 422
    assert "since: expected a date" in refused.text


def test_sessions_list_pages_by_fifty(office: Office, billing: TestClient) -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    for index in range(55):
        f.make_session(
            office.db,
            office.practice,
            office.client,
            office.provider,
            starts_at=start + timedelta(hours=index),
        )
    first = billing.get("/sessions")
    assert len(session_ids_on(first.text)) == 50
    assert "1–50 of 55" in first.text
    second = billing.get("/sessions", params={"offset": 50})
    assert len(session_ids_on(second.text)) == 5
    assert not set(session_ids_on(first.text)) & set(session_ids_on(second.text))


def test_bulk_mark_ready_builds_claims_and_names_each_refusal(office: Office, billing: TestClient) -> None:
    good = [office.visit(9, day=2), office.visit(9, day=3)]
    draft = office.visit(9, day=4, note_status="draft")
    csrf = token(billing)
    answer = billing.post(
        "/sessions/ready",
        data={"csrf_token": csrf, "session_id": [good[0].id, good[1].id, draft.id]},
    )
    assert answer.status_code == 200, answer.text
    assert f"session {draft.id}: the note is not locked" in answer.text
    claims = list(office.db.scalars(select(m.Claim).where(m.Claim.practice_id == office.practice.id)))
    assert len(claims) == 2
    assert {c.status for c in claims} == {"ready"}
    for claim in claims:
        assert claim.number in answer.text
    office.db.refresh(draft)
    assert draft.ready_at is None
    nothing = billing.post("/sessions/ready", data={"csrf_token": csrf})
    assert nothing.status_code == 422
    assert "session_id: select at least one" in nothing.text


def test_mark_ready_needs_enter_charges(office: Office, client: TestClient) -> None:
    service = office.visit()
    persona(office, client, Role.THERAPIST)
    csrf = token(client, "/my-sessions")
    assert (
        client.post("/sessions/ready", data={"csrf_token": csrf, "session_id": service.id}).status_code == 403
    )
    assert service.ready_at is None


# --- session detail and its actions -----------------------------------------------------------


def test_session_detail_shows_cards_and_timeline(office: Office, billing: TestClient, availity) -> None:  # type: ignore[no-untyped-def]
    [claim] = ready_claims(office, 1)
    record_submissions(
        office.db, actor=office.actor, claim_ids=[claim.id], submitted_on=date(2026, 3, 10), reference="AV-77"
    )
    service_id = office.db.scalar(
        select(m.Charge.session_id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .where(m.ClaimLine.claim_id == claim.id)
    )
    page = billing.get(f"/sessions/{service_id}")
    assert page.status_code == 200
    assert office.client.display_name in page.text
    assert office.provider.npi in page.text
    assert office.coverage.member_id in page.text
    kinds = re.findall(r'data-kind="(\w+)"', page.text)
    for kind in ("session_created", "marked_ready", "claim_built", "scrubbed", "status_change", "submission"):
        assert kind in kinds, kind
    assert "submitted via Availity" in page.text
    assert "reference AV-77" in page.text


def test_status_changes_valid_and_refused(office: Office, billing: TestClient) -> None:
    held = office.visit(9, day=2, note_status="draft")
    scheduled = office.visit(10, day=3, appointment_status="scheduled", note_status="none")
    csrf = token(billing)
    moved = billing.post(
        f"/sessions/{scheduled.id}/status", data={"csrf_token": csrf, "target": "appointment:no_show"}
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/sessions/{scheduled.id}?done=status"
    office.db.refresh(scheduled)
    assert scheduled.appointment_status == "no_show"
    locked = billing.post(f"/sessions/{held.id}/status", data={"csrf_token": csrf, "target": "note:locked"})
    assert locked.status_code == 303
    office.db.refresh(held)
    assert held.note_status == "locked"
    assert held.note_locked_at is not None
    backwards = billing.post(f"/sessions/{held.id}/status", data={"csrf_token": csrf, "target": "note:draft"})
    assert backwards.status_code == 422
    assert "a locked note cannot become draft" in backwards.text
    no_note = billing.post(
        f"/sessions/{scheduled.id}/status", data={"csrf_token": csrf, "target": "note:locked"}
    )
    assert "only a held visit is documented" in no_note.text
    audited = office.db.scalar(
        select(func.count())
        .select_from(m.AuditLog)
        .where(
            m.AuditLog.entity == "session",
            m.AuditLog.entity_id == str(held.id),
            m.AuditLog.action == "update",
        )
    )
    assert audited == 1


def test_billed_session_keeps_its_appointment_and_claim_moves_by_the_table(
    office: Office, billing: TestClient
) -> None:
    [claim] = ready_claims(office, 1)
    service_id = office.db.scalar(
        select(m.Charge.session_id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .where(m.ClaimLine.claim_id == claim.id)
    )
    csrf = token(billing)
    refused = billing.post(
        f"/sessions/{service_id}/status", data={"csrf_token": csrf, "target": "appointment:no_show"}
    )
    assert refused.status_code == 422
    assert "marked ready or billed" in refused.text
    not_allowed = billing.post(
        f"/sessions/{service_id}/status", data={"csrf_token": csrf, "target": f"claim:{claim.id}:paid"}
    )
    assert not_allowed.status_code == 422
    assert claim.number in not_allowed.text
    back = billing.post(
        f"/sessions/{service_id}/status", data={"csrf_token": csrf, "target": f"claim:{claim.id}:draft"}
    )
    assert back.status_code == 303
    office.db.refresh(claim)
    assert claim.status == "draft"


def test_patient_payment_in_dollars_posts_to_the_ledger(office: Office, billing: TestClient) -> None:
    service = office.visit()
    csrf = token(billing)
    bad = billing.post(f"/sessions/{service.id}/payment", data={"csrf_token": csrf, "amount": "12.345"})
    assert bad.status_code == 422
    assert "amount: &#39;12.345&#39; has a fraction of a cent" in bad.text
    words = billing.post(f"/sessions/{service.id}/payment", data={"csrf_token": csrf, "amount": "twenty"})
    assert words.status_code == 422
    zero = billing.post(f"/sessions/{service.id}/payment", data={"csrf_token": csrf, "amount": "0"})
    assert "amount: must be more than zero" in zero.text
    assert office.db.scalar(select(func.count()).select_from(m.Payment)) == 0
    good = billing.post(
        f"/sessions/{service.id}/payment",
        data={"csrf_token": csrf, "amount": "$20.00", "method": "card", "reference": "R1"},
    )
    assert good.status_code == 303
    payment = office.db.scalars(select(m.Payment)).one()
    assert (payment.amount_cents, payment.kind, payment.client_id) == (2000, "patient", office.client.id)
    postings = list(office.db.scalars(select(m.Posting).where(m.Posting.payment_id == payment.id)))
    assert sum(p.amount_cents for p in postings) == 0
    assert {p.account: p.amount_cents for p in postings} == {"cash": 2000, "patient_credit": -2000}
    assert "Payment recorded." in billing.get(good.headers["location"]).text


def test_patient_payment_needs_the_permission(office: Office, client: TestClient) -> None:
    service = office.visit()
    therapist = persona(office, client, Role.THERAPIST)
    service.provider.user_id = therapist.id
    office.db.flush()
    csrf = token(client, f"/sessions/{service.id}")
    answer = client.post(f"/sessions/{service.id}/payment", data={"csrf_token": csrf, "amount": "20"})
    assert answer.status_code == 403
    assert office.db.scalar(select(func.count()).select_from(m.Payment)) == 0


def test_notes_and_flags(office: Office, billing: TestClient) -> None:
    service = office.visit()
    csrf = token(billing)
    empty = billing.post(f"/sessions/{service.id}/notes", data={"csrf_token": csrf, "body": "  "})
    assert empty.status_code == 422
    assert "body: write the note" in empty.text
    noted = billing.post(
        f"/sessions/{service.id}/notes", data={"csrf_token": csrf, "body": "Called the payer"}
    )
    assert noted.status_code == 303
    assert "Called the payer" in billing.get(f"/sessions/{service.id}").text
    flagged = billing.post(
        f"/sessions/{service.id}/flag", data={"csrf_token": csrf, "title": "Wrong code?", "detail": "check"}
    )
    assert flagged.status_code == 303
    item = office.db.scalars(select(m.WorkItem).where(m.WorkItem.session_id == service.id)).one()
    assert (item.kind, item.rule, item.holds_billing, item.status) == ("flag", "manual", True, "open")
    page = billing.get(f"/sessions/{service.id}").text
    assert "stage-needs_review" in page
    csrf = token(billing)
    held = billing.post("/sessions/ready", data={"csrf_token": csrf, "session_id": service.id})
    assert "an open flag holds it" in held.text


def test_another_practices_session_is_not_found(office: Office, billing: TestClient) -> None:
    elsewhere = f.make_practice(office.db)
    stranger = f.make_session(
        office.db, elsewhere, f.make_client(office.db, elsewhere), f.make_provider(office.db, elsewhere)
    )
    csrf = token(billing)
    assert billing.get(f"/sessions/{stranger.id}").status_code == 404
    answer = billing.post(f"/sessions/{stranger.id}/notes", data={"csrf_token": csrf, "body": "x"})
    assert answer.status_code == 404


# --- the claim tracker --------------------------------------------------------------------------


def test_tabs_search_and_csv_export_of_the_view(office: Office, billing: TestClient, availity) -> None:  # type: ignore[no-untyped-def]
    claims = ready_claims(office, 3)
    record_submissions(
        office.db,
        actor=office.actor,
        claim_ids=[claims[0].id],
        submitted_on=date(2026, 3, 10),
        reference="AV-1",
    )
    record_submissions(
        office.db,
        actor=office.actor,
        claim_ids=[claims[1].id],
        submitted_on=date(2026, 3, 11),
        reference="AV-2",
    )
    page = billing.get("/claims").text
    tabs = dict(
        re.findall(r'data-status="(\w+)"[^>]*>[^<]*<span class="badge text-bg-light" data-count>(\d+)<', page)
    )
    assert tabs == {"ready": "1", "submitted": "2"}
    assert set(claim_ids_on(billing.get("/claims", params={"status": "submitted"}).text)) == {
        claims[0].id,
        claims[1].id,
    }
    assert claim_ids_on(billing.get("/claims", params={"reference": "av-2"}).text) == [claims[1].id]
    assert claim_ids_on(billing.get("/claims", params={"reference": claims[2].number}).text) == [claims[2].id]
    assert claim_ids_on(billing.get("/claims", params={"client": "nobody-like-this"}).text) == []

    export = billing.get("/claims.csv", params={"status": "submitted"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sorted(row["claim"] for row in rows) == sorted([claims[0].number, claims[1].number])
    first = next(row for row in rows if row["claim"] == claims[0].number)
    assert first["portal"] == "Availity"
    assert first["channel"] == "portal"
    assert first["billed"] == "150.00"
    practice_today = datetime.now(ZoneInfo(office.practice.timezone)).date()
    assert int(first["days_outstanding"]) == (practice_today - date(2026, 3, 10)).days


def test_csv_export_covers_every_page_and_defuses_formulas(office: Office, billing: TestClient) -> None:
    office.client.first_name = "=HYPERLINK(1)"
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    for index in range(52):
        service = f.make_session(
            office.db,
            office.practice,
            office.client,
            office.provider,
            starts_at=start + timedelta(hours=index),
        )
        f.make_claim(office.db, service, office.coverage, status="submitted")
    listing = billing.get("/claims", params={"status": "submitted"}).text
    assert len(claim_ids_on(listing)) == 50
    assert "1–50 of 52" in listing
    rows = list(csv.reader(io.StringIO(billing.get("/claims.csv", params={"status": "submitted"}).text)))
    assert len(rows) == 1 + 52
    assert all(row[1].startswith("'=HYPERLINK(1)") for row in rows[1:])


def test_bulk_submit_from_the_ready_tab(office: Office, billing: TestClient, availity) -> None:  # type: ignore[no-untyped-def]
    claims = ready_claims(office, 2)
    ready_tab = billing.get("/claims", params={"status": "ready"})
    assert 'data-testid="bulk-submit"' in ready_tab.text
    csrf = csrf_from(ready_tab.text)
    none_chosen = billing.post("/claims/submit", data={"csrf_token": csrf, "status": "ready"})
    assert none_chosen.status_code == 422
    answer = billing.post(
        "/claims/submit",
        data={
            "csrf_token": csrf,
            "status": "ready",
            "claim_id": [c.id for c in claims],
            "portal_id": availity.id,
            "submitted_on": "2026-03-12",
            "submission_reference": "BULK-9",
            "action": "submit",
        },
    )
    assert answer.status_code == 303, answer.text
    rows = list(
        office.db.scalars(select(m.Submission).where(m.Submission.claim_id.in_([c.id for c in claims])))
    )
    assert [(r.channel, r.portal_id, r.reference) for r in rows] == [("portal", availity.id, "BULK-9")] * 2
    again = billing.post(
        "/claims/submit", data={"csrf_token": csrf, "claim_id": [claims[0].id], "action": "queue"}
    )
    assert again.status_code == 422
    assert "nothing was queued" in again.text


def test_queue_for_batch_from_the_ready_tab(office: Office, billing: TestClient) -> None:
    [claim] = ready_claims(office, 1)
    csrf = token(billing, "/claims?status=ready")
    answer = billing.post(
        "/claims/submit", data={"csrf_token": csrf, "claim_id": claim.id, "action": "queue"}
    )
    assert answer.status_code == 303
    batch = office.db.scalars(select(m.SubmissionBatch)).one()
    assert batch.status == "queued"


# --- one claim ---------------------------------------------------------------------------------


def test_claim_detail_override_then_ready_then_resubmit(
    office: Office, billing: TestClient, availity
) -> None:  # type: ignore[no-untyped-def]
    office.provider.taxonomy_code = ""
    [claim] = ready_claims(office, 1)
    assert claim.status == "draft"
    page = billing.get(f"/claims/{claim.id}")
    assert 'data-testid="scrub-problems"' in page.text
    assert "rendering provider taxonomy" in page.text.lower() or "taxonomy" in page.text
    assert "Edits that ran:" in page.text
    csrf = csrf_from(page.text)
    warning = re.search(r'<option value="([^"]+\|[^"]*)">', page.text.split('data-testid="override-form"')[1])
    assert warning is not None
    no_reason = billing.post(
        f"/claims/{claim.id}/override", data={"csrf_token": csrf, "problem": warning.group(1), "reason": ""}
    )
    assert no_reason.status_code == 422
    assert "reason: say why" in no_reason.text
    done = billing.post(
        f"/claims/{claim.id}/override",
        data={
            "csrf_token": csrf,
            "problem": warning.group(1).replace("&#39;", "'"),
            "reason": "payer ignores it",
        },
    )
    assert done.status_code == 303, done.text
    made_ready = billing.post(f"/claims/{claim.id}/ready", data={"csrf_token": csrf})
    assert made_ready.headers["location"] == f"/claims/{claim.id}?done=ready"
    office.db.refresh(claim)
    assert claim.status == "ready"
    sent = billing.post(
        f"/claims/{claim.id}/submission",
        data={"csrf_token": csrf, "portal_id": availity.id, "submitted_on": "2026-03-12", "reference": "P-1"},
    )
    assert sent.status_code == 303
    no_icn = billing.post(f"/claims/{claim.id}/resubmit", data={"csrf_token": csrf, "frequency": "7"})
    assert no_icn.status_code == 422
    assert "needs the payer&#39;s claim control number" in no_icn.text
    again = billing.post(
        f"/claims/{claim.id}/resubmit",
        data={
            "csrf_token": csrf,
            "frequency": "7",
            "payer_claim_control_number": "ICN42",
            "reference": "P-2",
        },
    )
    assert again.status_code == 303
    log = billing.get(f"/claims/{claim.id}").text
    assert "P-1" in log
    assert "P-2" in log
    assert "ICN42" in log
    assert "payer ignores it" in log


def test_session_and_claim_pages_link_to_charges_client_and_paper_form(
    office: Office, billing: TestClient
) -> None:
    [claim] = ready_claims(office, 1)
    [line] = claim.lines
    charge = office.db.get_one(m.Charge, line.charge_id)
    page = billing.get(f"/sessions/{charge.session_id}")
    assert f'href="/sessions/{charge.session_id}/charges"' in page.text
    assert f'href="/clients/{office.client.id}"' in page.text
    assert billing.get(f"/sessions/{charge.session_id}/charges").status_code == 200
    assert billing.get(f"/clients/{office.client.id}").status_code == 200
    detail = billing.get(f"/claims/{claim.id}")
    assert f'href="/api/claims/{claim.id}/cms1500.pdf"' in detail.text
    pdf = billing.get(f"/api/claims/{claim.id}/cms1500.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_the_tracker_shows_each_open_claims_filing_deadline(office: Office, billing: TestClient) -> None:
    due_soon, settled = ready_claims(office, 2)
    local_today = datetime.now(ZoneInfo(office.practice.timezone)).date()
    due_soon.timely_filing_on = local_today + timedelta(days=10)
    settled.timely_filing_on = local_today + timedelta(days=200)
    settled.status = "paid"
    office.db.flush()
    page = billing.get("/claims")
    cells = dict(
        re.findall(r'data-claim-id="(\d+)".*?data-testid="filing-deadline">(.*?)</td>', page.text, re.S)
    )
    assert "text-danger" in cells[str(due_soon.id)]
    assert cells[str(settled.id)] == ""
