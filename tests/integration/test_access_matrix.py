"""Every API route x every role x own/other practice, generated from the routes the app has.

A route declares the permission it checks with ``needs(Permission.X)``
(revcycle.web.api.resources), which stores ``x-permission`` in its ``openapi_extra``. This test
walks every registered /api/ route and expects, from domain.permissions alone:

* another practice's id (or ``?practice_id=`` of another practice): 404, for every role;
* the own practice: 200 when the role holds the permission at any scope (the world's records
  in the own practice are the therapist's and the client's own), else 403;
* no token: 401.

Writes (POST) are sent with a valid body (:data:`WRITE_REQUESTS`), so that what answers is
the permission check, not validation. A one-shot write (commit a batch, resolve a flag) may
answer 409 to a later allowed role once an earlier one has done it; a forbidden role must
still get 403 and another practice's id 404.

A route without a declared permission fails the test unless it is in :data:`PUBLIC_OR_SELF`,
so a new route is covered (or refused) the moment it is registered. A path parameter the
world has no id for fails with a message naming it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission, Role, can
from revcycle.services import appeals, patient_payments, payment_batches, payment_entry, x12_ingest
from revcycle.services.actor import system_actor
from revcycle.web.api.resources import PERMISSION_KEY
from revcycle.x12.write835 import write_835
from tests import factories as f
from tests.integration.api_routes import api_routes, bearer
from tests.integration.remittance.world import claim_payment, envelope, line, remittance
from tests.integration.world import World, build_world
from tests.integration.x12.test_ingest import a_277ca, a_report

# Routes that need no permission: signing in, the caller's own identity, the health check
# and the API's own documentation.
PUBLIC_OR_SELF = frozenset(
    {
        "/api/auth/token",
        "/api/me",
        "/healthz",
        "/api/openapi.json",
        "/api/docs",
        "/api/docs/oauth2-redirect",
    }
)
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_SAMPLE_CSV = Path(__file__).resolve().parents[1] / "data" / "csv" / "simplepractice_appointments.csv"
_SAMPLE_NCCI = Path(__file__).resolve().parents[1] / "data" / "ncci" / "ptp_practitioner_synthetic.txt"
_SAMPLE_ICD10 = Path(__file__).resolve().parents[1] / "data" / "codesets" / "icd10cm_order_2027.txt"
# A valid request body per write route (default: none); called once per request.
WRITE_REQUESTS: dict[str, Callable[[], dict[str, Any]]] = {
    # code sets: the second load of the same name answers 409
    "/api/code-sets/ncci": lambda: {
        "data": {"name": "Matrix PTP", "effective_on": "2026-01-01"},
        "files": {"file": ("ptp.txt", _SAMPLE_NCCI.read_bytes(), "text/plain")},
    },
    "/api/code-sets/icd10cm": lambda: {
        "data": {"name": "Matrix FY2027", "effective_on": "2026-10-01", "ends_on": "2027-09-30"},
        "files": {"file": ("icd10cm_order_2027.txt", _SAMPLE_ICD10.read_bytes(), "text/plain")},
    },
    "/api/code-sets/adjustment-codes": lambda: {
        "data": {"code_list": "carc", "name": "Matrix CARC", "effective_on": "2026-11-01"},
        "files": {"file": ("carc.csv", b"Code,Description\n50,Not medically necessary.\n", "text/csv")},
    },
    # every ready claim billed on paper: the world has none, so an allowed role gets 409
    "/api/claims/paper-batch": lambda: {"json": {}},
    "/api/saved-filters": lambda: {"json": {"page": "sessions", "name": "Mine", "query": {"stage": "paid"}}},
    "/api/imports": lambda: {"files": {"file": ("week.csv", _SAMPLE_CSV.read_bytes(), "text/csv")}},
    "/api/review/{work_item_id}/resolve": lambda: {"json": {"resolution": "acknowledge"}},
    "/api/import-mappings": lambda: {
        "json": {"name": "Clinic export", "target": "attendance", "columns": _ATTENDANCE_COLUMNS}
    },
    "/api/import-mappings/suggest": lambda: {"files": {"file": ("new.csv", b"Who,When,With,Came\n")}},
    "/api/review-groups/resolve": lambda: {
        "json": {"rule": "future_date", "title": "Date of service in the future", "resolution": "acknowledge"}
    },
    # claims (an empty list of ids does nothing: what answers is the permission check)
    "/api/sessions/ready": lambda: {"json": {"session_ids": []}},
    "/api/claims/submissions": lambda: {"json": {"claim_ids": [], "reference": "R-1"}},
    "/api/claims/queue": lambda: {"json": {"claim_ids": []}},
    "/api/claims/{claim_id}/overrides": lambda: {
        "json": {"problem_code": "scrub.telehealth.modifier_missing", "where": "line 1", "reason": "payer ok"}
    },
    "/api/claims/{claim_id}/resubmit": lambda: {
        "json": {"frequency": "7", "payer_claim_control_number": "ICN1", "reason": "units corrected"}
    },
    "/api/practice-payers/{payer_id}": lambda: {"json": {"timely_filing_days": 120}},
    "/api/portals": lambda: {"json": {"name": "Availity", "url": "https://www.availity.com"}},
    "/api/portals/{portal_id}": lambda: {"json": {"login_instructions": "Office account; see the vault"}},
    "/api/alerts/{work_item_id}/resolve": lambda: {"json": {"reason": "seen to"}},
    "/api/clients/{client_id}/coverages": lambda: {
        "json": {
            "payer_edi_id": "WRLDCOV1",  # a payer build_world makes
            "member_id": "S1",
            "priority": "secondary",
            "effective_on": "2026-01-01",
        }
    },
    "/api/coverages/{coverage_id}": lambda: {"json": {"group_number": "G-1"}},
    "/api/coverages/{coverage_id}/end": lambda: {"json": {"ends_on": "2026-12-31"}},
    "/api/coverages/{coverage_id}/eligibility": lambda: {"json": {"as_of": "2026-04-06"}},
    "/api/coverages/{coverage_id}/authorizations": lambda: {
        "json": {"number": "PA-1", "visits_allowed": 10, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    },
    "/api/coverages/{coverage_id}/cards": lambda: {
        "files": {"file": ("card.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, "image/png")},
        "data": {"side": "back"},
    },
    "/api/sessions/{session_id}/charges": lambda: {
        "json": {"procedure_code": "90785", "fee_cents": 2000, "diagnosis_codes": ["F41.1"]}
    },
    "/api/charges/{charge_id}": lambda: {
        "json": {"procedure_code": "90837", "fee_cents": 15000, "diagnosis_codes": ["F41.1"]}
    },
    # X12: a 277CA about a claim nobody has is applied (listed unmatched), then a duplicate
    "/api/x12/files": lambda: {"files": {"file": ("payer.277", _A_277CA, "text/plain")}},
    "/api/x12/validate": lambda: {"files": {"file": ("payer.277", _A_277CA, "text/plain")}},
    # every ready claim: the world has none, so an allowed role gets 409
    "/api/x12/batches": lambda: {"json": {}},
    # remittances: the first allowed role acknowledges the exception, a later one gets 409; the
    # matrix's remittance is posted, so approving it answers 409 (not waiting for review)
    "/api/posting-exceptions/{work_item_id}/resolve": lambda: {"json": {"action": "acknowledge"}},
    # underpayments: the first allowed role accepts the matrix's underpayment, a later one gets 409
    "/api/underpayments/{work_item_id}/resolve": lambda: {"json": {"action": "accepted"}},
    # appeals: the first allowed role starts the appeal of a denied claim, submits the draft,
    # decides the submitted one; a later role gets 409 (in progress, already submitted, decided)
    "/api/claims/{claim_id}/appeals": lambda: {"json": {}},
    "/api/appeals/{appeal_id}/submit": lambda: {"json": {"payer_reference": "MX-1"}},
    "/api/appeals/{appeal_id}/outcome": lambda: {"json": {"outcome": "won", "decided_on": "2026-06-01"}},
    # fees: a second schedule or contract of the same name answers 409, as does revising a
    # version already replaced (the first /rates or /rates.csv makes its next version)
    "/api/fee-schedules": lambda: {
        "json": {"name": "Matrix fees", "effective_on": "2026-01-01", "rates": [_MATRIX_RATE]}
    },
    "/api/payer-contracts": lambda: {
        "json": {
            "payer_edi_id": "WRLDCOV1",
            "number": "M-NEW",
            "starts_on": "2026-01-01",
            "rates": [_MATRIX_RATE],
        }
    },
    "/api/fee-schedules/{table_id}/end": lambda: {"json": {"ends_on": "2026-12-31"}},
    "/api/payer-contracts/{table_id}/end": lambda: {"json": {"ends_on": "2026-12-31"}},
    "/api/fee-schedules/{table_id}/rates": lambda: {
        "json": {"effective_on": "2026-07-01", "rates": [_MATRIX_RATE]}
    },
    "/api/payer-contracts/{table_id}/rates": lambda: {
        "json": {"effective_on": "2026-07-01", "rates": [_MATRIX_RATE]}
    },
    "/api/fee-schedules/{table_id}/rates.csv": lambda: _MATRIX_CSV,
    "/api/payer-contracts/{table_id}/rates.csv": lambda: _MATRIX_CSV,
    # front desk payments: each allowed role records one; the first voids the desk payment
    # (_desk_payment), the later ones get 409 (already voided)
    "/api/clients/{client_id}/payments": lambda: {"json": {"amount_cents": 2000, "method": "cash"}},
    "/api/payments/{payment_id}/void": lambda: {"json": {"reason": "entered twice"}},
    # insurance payments by hand: the first allowed role records the check (all unapplied), a
    # later one gets 409 (the same check number again); the first reverses _hand_payment and
    # closes _balanced_batch, a later one gets 409 (already reversed, already closed)
    "/api/insurance-payments": lambda: {
        "json": {
            "payer_edi_id": "WRLDCOV1",
            "amount_cents": 1234,
            "received_on": "2026-03-06",
            "method": "check",
            "reference": "MATRIX-1",
            "confirm_unapplied": True,
        }
    },
    "/api/insurance-payments/lump-sum-proposals": lambda: {
        "json": {"payer_edi_id": "WRLDCOV1", "amount_cents": 1000}
    },
    "/api/insurance-payments/{payment_id}/reverse": lambda: {"json": {"reason": "entered twice"}},
    "/api/payment-batches": lambda: {
        "json": {"name": "Matrix", "control_count": 1, "control_amount_cents": 1000}
    },
    # deposits: a second import of the same statement records nothing (its lines are skipped)
    "/api/deposits": lambda: {"json": {"deposited_on": "2026-03-06", "amount_cents": 2000}},
    "/api/deposits/import": lambda: {
        "files": {"file": ("bank.csv", b"Date,Description,Amount\n2026-03-06,DEPOSIT,20.00\n", "text/csv")}
    },
    "/api/deposits/{deposit_id}/match": lambda: {"json": {"payment_ids": []}},
}
# Path parameters that must name a particular kind of row for one route.
ROUTE_IDS: dict[str, Callable[[Any], dict[str, int | str]]] = {
    "/api/saved-filters/{filter_id}/delete": lambda rows: {"filter_id": rows.saved_filter.id},
    "/api/review/{work_item_id}/resolve": lambda rows: {"work_item_id": rows.flag.id},
    "/api/import-mappings/{name:path}": lambda rows: {"name": rows.mapping.name},
    "/api/portals/{portal_id}": lambda rows: {"portal_id": rows.portal.id},
    "/api/alerts/{work_item_id}/acknowledge": lambda rows: {"work_item_id": rows.alert.id},
    "/api/alerts/{work_item_id}/resolve": lambda rows: {"work_item_id": rows.alert.id},
    "/api/remittances/{remittance_id}": lambda rows: {
        "remittance_id": _posting_exception(rows).remittance_id
    },
    "/api/remittances/{remittance_id}/approve": lambda rows: {
        "remittance_id": _posting_exception(rows).remittance_id
    },
    "/api/posting-exceptions/{work_item_id}/resolve": lambda rows: {
        "work_item_id": _posting_exception(rows).id
    },
    "/api/underpayments/{work_item_id}/resolve": lambda rows: {"work_item_id": _underpayment(rows).id},
    "/api/campaigns/{campaign_id}": lambda rows: {"campaign_id": _campaign(rows).id},
    "/api/claims/{claim_id}/appeals": lambda rows: {"claim_id": _denied_claim(rows, "start").id},
    "/api/appeals/{appeal_id}": lambda rows: {"appeal_id": _matrix_appeal(rows, "read").id},
    "/api/appeals/{appeal_id}/submit": lambda rows: {"appeal_id": _matrix_appeal(rows, "submit").id},
    "/api/appeals/{appeal_id}/outcome": lambda rows: {
        "appeal_id": _matrix_appeal(rows, "decide", submitted=True).id
    },
    "/api/coverages/{coverage_id}": lambda rows: {"coverage_id": rows.claim.coverage_id},
    "/api/coverages/{coverage_id}/end": lambda rows: {"coverage_id": rows.claim.coverage_id},
    "/api/coverages/{coverage_id}/eligibility": lambda rows: {"coverage_id": rows.claim.coverage_id},
    "/api/coverages/{coverage_id}/authorizations": lambda rows: {"coverage_id": rows.claim.coverage_id},
    "/api/coverages/{coverage_id}/cards": lambda rows: {"coverage_id": rows.claim.coverage_id},
    "/api/coverages/{coverage_id}/cards/{card_id}": lambda rows: {
        "coverage_id": rows.coverage_card.coverage_id,
        "card_id": rows.coverage_card.id,
    },
    "/api/charges/{charge_id}": lambda rows: {"charge_id": rows.session.charges[0].id},
    "/api/charges/{charge_id}/delete": lambda rows: {"charge_id": rows.session.charges[0].id},
    "/api/x12/batches/{batch_id}/file": lambda rows: {"batch_id": _x12_batch(rows).id},
    "/api/deposits/{deposit_id}/match": lambda rows: {"deposit_id": _deposit(rows).id},
    "/api/payments/{payment_id}/void": lambda rows: {"payment_id": _desk_payment(rows).id},
    "/api/insurance-payments/{payment_id}/reverse": lambda rows: {
        "payment_id": _hand_payment(rows, "MATRIX-REV").id
    },
    "/api/payment-batches/{batch_id}": lambda rows: {"batch_id": _balanced_batch(rows).id},
    "/api/payment-batches/{batch_id}/close": lambda rows: {"batch_id": _balanced_batch(rows).id},
    **{
        path: lambda rows: {"table_id": _fee_tables(rows)[0].id}
        for path in (
            "/api/fee-schedules/{table_id}",
            "/api/fee-schedules/{table_id}/end",
            "/api/fee-schedules/{table_id}/rates",
            "/api/fee-schedules/{table_id}/rates.csv",
        )
    },
    **{
        path: lambda rows: {"table_id": _fee_tables(rows)[1].id}
        for path in (
            "/api/payer-contracts/{table_id}",
            "/api/payer-contracts/{table_id}/end",
            "/api/payer-contracts/{table_id}/rates",
            "/api/payer-contracts/{table_id}/rates.csv",
        )
    },
}
_READS = frozenset({"GET", "HEAD"})
_MATRIX_RATE = {"procedure_code": "90837", "amount_cents": 15000}
_MATRIX_CSV = {
    "files": {"file": ("rates.csv", b"procedure_code,modifiers,amount\n90837,,160.00\n", "text/csv")},
    "data": {"effective_on": "2026-08-01"},
}
_A_277CA = a_277ca(a_report("NOSUCHCLAIM", "A2"))


def _x12_batch(rows: Any) -> m.SubmissionBatch:
    """A sent clearinghouse batch with its stored file in the rows' practice (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    found = db.scalars(
        select(m.SubmissionBatch).where(
            m.SubmissionBatch.practice_id == rows.practice.id, m.SubmissionBatch.channel == "clearinghouse"
        )
    ).first()
    if found is not None:
        return found
    content = b"ISA*00*~"
    stored = m.StoredFile(
        practice_id=rows.practice.id,
        kind="837",
        direction="out",
        filename="837P-000000001.x12",
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        content=content,
    )
    db.add(stored)
    db.flush()
    batch = m.SubmissionBatch(
        practice_id=rows.practice.id, channel="clearinghouse", status="sent", stored_file_id=stored.id
    )
    db.add(batch)
    db.flush()
    return batch


def _posting_exception(rows: Any) -> m.WorkItem:
    """An 835 paying a claim nobody has, ingested in the rows' practice: its remittance and
    the unmatched-claim exception it raised (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    query = select(m.WorkItem).where(
        m.WorkItem.practice_id == rows.practice.id, m.WorkItem.kind == "exception"
    )
    found = db.scalars(query.order_by(m.WorkItem.id)).first()
    if found is not None:
        return found
    era = remittance(
        claim_payment("MATRIX-NONE", line("90837", 15000, 9000, ("CO", "45", 6000)), icn="MATRIXICN"),
        trace=f"MATRIX{rows.practice.id}",
    )
    x12_ingest.ingest(
        db,
        actor=system_actor("matrix"),
        practice_id=rows.practice.id,
        filename="matrix.835",
        data=write_835([era], envelope(rows.practice.id)).encode(),
    )
    found = db.scalars(query.order_by(m.WorkItem.id)).first()
    assert found is not None
    return found


def _underpayment(rows: Any) -> m.WorkItem:
    """An underpayment alert on the rows' claim, as the 835 posting raises it (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    key = f"underpayment:matrix:{rows.claim.id}"
    found = db.scalars(
        select(m.WorkItem).where(m.WorkItem.practice_id == rows.practice.id, m.WorkItem.dedupe_key == key)
    ).first()
    if found is None:
        found = m.WorkItem(
            practice_id=rows.practice.id,
            kind="underpayment",
            rule="underpayment",
            severity="warning",
            title=f"Underpaid $10.00: claim {rows.claim.number} line 1",
            dedupe_key=key,
            claim_id=rows.claim.id,
            client_id=rows.claim.client_id,
        )
        db.add(found)
        db.flush()
    return found


def _denied_claim(rows: Any, tag: str) -> m.Claim:
    """A claim of the rows' client the payer denied (made once per tag)."""
    db = object_session(rows.practice)
    assert db is not None
    number = f"MX{tag[:5]}{rows.practice.id}"[:17]
    found = db.scalars(
        select(m.Claim).where(m.Claim.practice_id == rows.practice.id, m.Claim.number == number)
    ).first()
    if found is None:
        coverage = db.get_one(m.Coverage, rows.claim.coverage_id)
        found = f.make_claim(db, f.make_session(db, rows.practice, rows.client, rows.provider), coverage)
        found.number, found.status = number, "denied"
        db.flush()
    return found


def _matrix_appeal(rows: Any, tag: str, *, submitted: bool = False) -> m.Appeal:
    """A draft (or submitted) appeal of a denied claim of the rows' practice (made once per tag)."""
    db = object_session(rows.practice)
    assert db is not None
    claim = _denied_claim(rows, tag)
    found = db.scalars(select(m.Appeal).where(m.Appeal.claim_id == claim.id)).first()
    if found is None:
        actor = system_actor("matrix")
        found = appeals.start_appeal(db, actor=actor, claim_id=claim.id, today=date(2026, 5, 1))
        if submitted:
            appeals.submit_appeal(db, actor=actor, appeal_id=found.id, submitted_on=date(2026, 5, 2))
    return found


def _campaign(rows: Any) -> m.Campaign:
    """A campaign of the rows' practice with its claim (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    found = db.scalars(
        select(m.Campaign).where(m.Campaign.practice_id == rows.practice.id, m.Campaign.name == "Matrix")
    ).first()
    if found is None:
        found = m.Campaign(
            practice_id=rows.practice.id, name="Matrix", workflow="phone", started_on=date(2026, 1, 5)
        )
        db.add(found)
        db.flush()
        db.add(m.CampaignItem(campaign_id=found.id, claim_id=rows.claim.id, added_on=date(2026, 1, 5)))
        db.flush()
    return found


def _desk_payment(rows: Any) -> m.Payment:
    """A payment taken at the front desk (posted, so it can be voided) in the rows' practice."""
    db = object_session(rows.practice)
    assert db is not None
    found = db.scalars(
        select(m.Payment).where(m.Payment.practice_id == rows.practice.id, m.Payment.reference == "4321")
    ).first()
    if found is not None:
        return found
    return patient_payments.record_client_payment(
        db,
        actor=system_actor("matrix"),
        client_id=rows.client.id,
        amount_cents=1500,
        method="card",
        reference="4321",
    ).payment


def _deposit(rows: Any) -> m.Deposit:
    """A deposit in the rows' practice (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    found = db.scalars(select(m.Deposit).where(m.Deposit.practice_id == rows.practice.id)).first()
    if found is None:
        found = m.Deposit(practice_id=rows.practice.id, deposited_on=date(2026, 3, 6), amount_cents=2000)
        db.add(found)
        db.flush()
    return found


def _hand_payment(rows: Any, reference: str, batch_id: int | None = None) -> m.Payment:
    """An insurance check keyed by hand, all unapplied, in the rows' practice (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    found = db.scalars(
        select(m.Payment).where(m.Payment.practice_id == rows.practice.id, m.Payment.reference == reference)
    ).first()
    if found is not None:
        return found
    return payment_entry.record_insurance_payment(
        db,
        actor=system_actor("matrix"),
        practice_id=rows.practice.id,
        payer_id=rows.payer.id,
        amount_cents=1000,
        received_on=date(2026, 3, 6),
        method="check",
        reference=reference,
        batch_id=batch_id,
        confirm_unapplied=True,
    ).payment


def _balanced_batch(rows: Any) -> m.PaymentBatch:
    """A payment batch whose one check matches its control totals, so it may close (made once)."""
    db = object_session(rows.practice)
    assert db is not None
    found = db.scalars(
        select(m.PaymentBatch).where(
            m.PaymentBatch.practice_id == rows.practice.id, m.PaymentBatch.name == "Matrix balanced"
        )
    ).first()
    if found is not None:
        return found
    batch = payment_batches.create_batch(
        db,
        actor=system_actor("matrix"),
        practice_id=rows.practice.id,
        name="Matrix balanced",
        control_count=1,
        control_amount_cents=1000,
    )
    _hand_payment(rows, "MATRIX-BATCH", batch.id)
    return batch


def _fee_tables(rows: Any) -> tuple[m.FeeSchedule, m.PayerContract]:
    """A payer fee schedule and a contract with a rate each, in the rows' practice (made once;
    the first versions, whatever later versions the matrix's writes made)."""
    db = object_session(rows.practice)
    assert db is not None
    practice_id, payer_id = rows.practice.id, rows.payer.id
    schedule = db.scalars(
        select(m.FeeSchedule)
        .where(m.FeeSchedule.practice_id == practice_id, m.FeeSchedule.name == "Matrix")
        .order_by(m.FeeSchedule.id)
    ).first()
    contract = db.scalars(
        select(m.PayerContract)
        .where(m.PayerContract.practice_id == practice_id, m.PayerContract.number == "M-1")
        .order_by(m.PayerContract.id)
    ).first()
    if schedule is None or contract is None:
        schedule = m.FeeSchedule(
            practice_id=practice_id, name="Matrix", payer_id=payer_id, effective_on=date(2026, 1, 1)
        )
        contract = m.PayerContract(
            practice_id=practice_id, payer_id=payer_id, number="M-1", starts_on=date(2026, 1, 1)
        )
        db.add_all([schedule, contract])
        db.flush()
        db.add_all(
            [
                m.FeeScheduleRate(
                    practice_id=practice_id,
                    fee_schedule_id=schedule.id,
                    procedure_code="90834",
                    amount_cents=1,
                ),
                m.PayerContractRate(
                    practice_id=practice_id, contract_id=contract.id, procedure_code="90834", allowed_cents=1
                ),
            ]
        )
        db.flush()
    return schedule, contract


_ATTENDANCE_COLUMNS = {
    "date_of_service": "When",
    "client_name": "Who",
    "clinician_name": "With",
    "appointment_status": "Came",
}


def declared_permission(route: APIRoute) -> Permission | None:
    extra = route.openapi_extra or {}
    value = extra.get(PERMISSION_KEY)
    return Permission(value) if value else None


def test_every_api_route_declares_its_permission(app) -> None:  # type: ignore[no-untyped-def]
    undeclared = sorted(
        f"{sorted(route.methods)} {route.path}"
        for route in api_routes(app)
        if declared_permission(route) is None and route.path not in PUBLIC_OR_SELF
    )
    assert not undeclared, (
        "these API routes declare no permission; add **needs(Permission.X) to the route "
        f"(or, for a route that truly needs none, add it to PUBLIC_OR_SELF): {undeclared}"
    )


def test_the_matrix_covers_the_resource_routes(app) -> None:  # type: ignore[no-untyped-def]
    covered = {route.path for route in api_routes(app) if declared_permission(route)}
    assert {
        "/api/sessions",
        "/api/sessions/{session_id}",
        "/api/claims/{claim_id}",
        "/api/audit-log",
        "/api/imports",
        "/api/imports/{batch_id}/commit",
        "/api/review/{work_item_id}/resolve",
        "/api/import-mappings",
        "/api/import-mappings/{name:path}",
        "/api/import-mappings/suggest",
        "/api/review-groups",
        "/api/review-groups/resolve",
    } <= covered


def _fill(path: str, ids: dict[str, int | str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"{path}: the access matrix has no id for {{{name}}}; add it to World.ids"
        return str(ids[name])

    return _PARAM.sub(one, path)


def _requests(route: APIRoute, world: World, side: str) -> list[str]:
    rows = world.own if side == "own" else world.other
    if _PARAM.search(route.path):
        ids: dict[str, int | str] = {**rows.ids, **ROUTE_IDS.get(route.path, lambda _rows: {})(rows)}
        return [_fill(route.path, ids)]
    if side == "own":
        return [route.path, f"{route.path}?practice_id={rows.practice.id}"]
    return [f"{route.path}?practice_id={rows.practice.id}"]


def _expected(role: Role, permission: Permission, side: str) -> int:
    if side == "other":
        return 404
    return 200 if can({role}, permission) else 403


def _send(client: TestClient, route: APIRoute, url: str, headers: dict[str, str] | None = None) -> Any:
    if route.methods <= _READS:
        return client.get(url, headers=headers)
    body = WRITE_REQUESTS.get(route.path, dict)()
    return client.post(url, headers=headers, **body)


def _acceptable(route: APIRoute, expected: int, status: int) -> bool:
    # A one-shot write already done by an earlier allowed role answers 409, not 403/404.
    return status == expected or (expected == 200 and status == 409 and not route.methods <= _READS)


def test_access_matrix(client: TestClient, app, db: Session) -> None:  # type: ignore[no-untyped-def]
    world = build_world(db)
    routes = [route for route in api_routes(app) if declared_permission(route)]
    assert len(routes) >= 13
    tokens = {role: bearer(client, world.users[role].email) for role in Role}
    wrong: list[str] = []
    for route in routes:
        permission = declared_permission(route)
        assert permission is not None
        assert route.methods <= _READS | {"POST"}, f"{route.path}: extend the matrix to {route.methods}"
        method = "GET" if route.methods <= _READS else "POST"
        for side in ("own", "other"):
            for url in _requests(route, world, side):
                anonymous = _send(client, route, url)
                if anonymous.status_code != 401:
                    wrong.append(f"anonymous {method} {url}: {anonymous.status_code}, expected 401")
                for role in Role:
                    expected = _expected(role, permission, side)
                    response = _send(client, route, url, tokens[role])
                    if not _acceptable(route, expected, response.status_code):
                        wrong.append(
                            f"{role} {method} {url}: {response.status_code}, expected {expected}"
                            f" {response.text[:120]}"
                        )
                    elif expected != 200 and response.json().get("error") not in {"not_found", "forbidden"}:
                        wrong.append(f"{role} {method} {url}: body {response.text[:80]}")
    assert not wrong, "access matrix broken:\n" + "\n".join(wrong)


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.CLIENT])
def test_own_scope_roles_are_refused_someone_elses_records(
    client: TestClient, db: Session, role: Role
) -> None:
    world = build_world(db)
    assert world.therapist2_session is not None
    headers = bearer(client, world.users[role].email)
    response = client.get(f"/api/sessions/{world.therapist2_session.id}", headers=headers)
    assert response.status_code == 404
    response = client.get(f"/api/clients/{world.therapist2_session.client_id}", headers=headers)
    assert response.status_code == 404
