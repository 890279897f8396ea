"""The bulk paths write exactly what the one-claim paths write: status moves
(:func:`transition_claims`), audit rows (:func:`audit.record_many`), a batch queued and sent,
and 999/277CA files answering many claims; the audit chain verifies after each, and a refusal
writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput
from revcycle.services import audit, submissions
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import CHUNK
from revcycle.services.claims import ClaimMove, transition_claim, transition_claims
from revcycle.services.x12_ingest import ingest
from tests import factories as f
from tests.integration.x12.test_ingest import a_277ca, a_999, a_report, send_batch

S = ClaimStatus


def _practice_with_claims(db: Session, statuses: list[str]) -> tuple[Actor, list[m.Claim]]:
    practice = f.make_practice(db)
    actor = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, f.make_payer(db))
    provider = f.make_provider(db, practice)
    claims = [
        f.make_claim(db, f.make_session(db, practice, client, provider), coverage, status=status)
        for status in statuses
    ]
    return actor, claims


def _history(db: Session, actor: Actor, claim: m.Claim) -> dict[str, Any]:
    """What the claim's moves wrote: its events and its audit rows, in order, and its status."""
    events = db.scalars(
        select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim.id).order_by(m.ClaimEvent.id)
    )
    rows = db.scalars(
        select(m.AuditLog)
        .where(
            m.AuditLog.practice_id == claim.practice_id,
            m.AuditLog.entity == "claim",
            m.AuditLog.entity_id == str(claim.id),
        )
        .order_by(m.AuditLog.seq)
    )
    status = db.scalar(select(m.Claim.status).where(m.Claim.id == claim.id))
    return {
        "status": status,
        "events": [
            (e.from_status, e.to_status, e.source, e.actor_user_id == actor.user_id, e.detail) for e in events
        ],
        "audit": [
            (
                row.action,
                row.client_ids == [claim.client_id],
                row.actor_user_id == actor.user_id,
                row.source_ip,
                row.before,
                row.after,
                row.reason,
            )
            for row in rows
        ],
    }


def _chain_intact(db: Session, practice_id: int) -> None:
    assert audit.verify_chain(db, practice_id) == []
    seqs = list(
        db.scalars(
            select(m.AuditLog.seq).where(m.AuditLog.practice_id == practice_id).order_by(m.AuditLog.seq)
        )
    )
    assert seqs == list(range(1, len(seqs) + 1))


# ----------------------------------------------------------------------------- transition_claims


STARTS = ["ready", "ready", "submitted", "acknowledged", "ready"]
MOVES = [  # (claim index, target, source, detail); claim 0 moves twice
    (0, S.SUBMITTED, EventSource.USER, "sent via portal"),
    (1, S.SUBMITTED, EventSource.USER, "sent on paper"),
    (2, S.ACKNOWLEDGED, EventSource.X12_999, "999 transaction set 0001: A"),
    (0, S.ACKNOWLEDGED, EventSource.X12_999, "999 transaction set 0002: A"),
    (3, S.REJECTED, EventSource.X12_277CA, "277CA A7:562 NPI NOT ON FILE"),
    (4, S.SUBMITTED, EventSource.USER, ""),
]


def test_transition_claims_writes_what_transition_claim_writes_one_move_at_a_time(db: Session) -> None:
    one_actor, one_claims = _practice_with_claims(db, STARTS)
    bulk_actor, bulk_claims = _practice_with_claims(db, STARTS)

    for index, target, source, detail in MOVES:
        transition_claim(
            db, actor=one_actor, claim_id=one_claims[index].id, target=target, source=source, detail=detail
        )
    moved = transition_claims(
        db,
        actor=bulk_actor,
        moves=[
            ClaimMove(bulk_claims[index].id, target, source, detail)
            for index, target, source, detail in MOVES
        ],
    )

    assert [claim.id for claim in moved] == [bulk_claims[index].id for index, *_ in MOVES]
    for one, bulk in zip(one_claims, bulk_claims, strict=True):
        assert _history(db, bulk_actor, bulk) == _history(db, one_actor, one)
    assert _history(db, bulk_actor, bulk_claims[0])["events"][1][:2] == ("submitted", "acknowledged")
    assert [claim.status for claim in bulk_claims] == [
        "acknowledged",
        "submitted",
        "acknowledged",
        "rejected",
        "submitted",
    ]
    for claims in (one_claims, bulk_claims):
        _chain_intact(db, claims[0].practice_id)


def test_a_move_the_table_refuses_refuses_the_whole_bulk_call_and_writes_nothing(db: Session) -> None:
    actor, claims = _practice_with_claims(db, ["ready", "ready", "ready"])
    moves = [
        ClaimMove(claims[0].id, S.SUBMITTED, EventSource.USER),
        ClaimMove(claims[1].id, S.PAID, EventSource.USER),  # ready -> paid is not a move
        ClaimMove(claims[2].id, S.SUBMITTED, EventSource.USER),
    ]
    with pytest.raises(InvalidInput) as refused:
        transition_claims(db, actor=actor, moves=moves)

    assert claims[1].number in refused.value.detail
    for claim in claims:
        assert _history(db, actor, claim) == {"status": "ready", "events": [], "audit": []}
    assert db.scalar(select(func.count()).where(m.AuditLog.practice_id == claims[0].practice_id)) == 0


# ----------------------------------------------------------------------------- audit.record_many


def _entry(n: int) -> audit.Entry:
    return audit.Entry(
        action="update",
        entity="claim",
        entity_id=n,
        client_ids=[n % 7, 3, n % 7],
        before={"status": "ready"},
        after={"status": "submitted", "n": n},
        reason=f"entry {n}",
    )


def test_record_many_appends_the_rows_record_appends_and_the_chain_verifies(db: Session) -> None:
    one, bulk = f.make_practice(db), f.make_practice(db)
    actor = f.actor_for(db, f.make_user(db, one, Role.ADMIN))
    count = audit_insert_chunk = 1_000
    entries = [_entry(n) for n in range(count + 3)]  # more than one INSERT's worth
    assert len(entries) > audit_insert_chunk

    audit.record(db, actor=actor, practice_id=bulk.id, action="login", entity="user")
    last = audit.record_many(db, actor=actor, practice_id=bulk.id, entries=entries)
    audit.record(db, actor=actor, practice_id=bulk.id, action="logout", entity="user")
    audit.record(db, actor=actor, practice_id=one.id, action="login", entity="user")
    for entry in entries:
        audit.record(
            db,
            actor=actor,
            practice_id=one.id,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            client_ids=entry.client_ids,
            before=entry.before,
            after=entry.after,
            reason=entry.reason,
        )
    audit.record(db, actor=actor, practice_id=one.id, action="logout", entity="user")

    assert last == len(entries) + 1
    assert audit.record_many(db, actor=actor, practice_id=bulk.id, entries=[]) == len(entries) + 2

    def content(practice_id: int) -> list[tuple[Any, ...]]:
        rows = db.execute(
            select(
                m.AuditLog.seq,
                m.AuditLog.actor_user_id,
                m.AuditLog.action,
                m.AuditLog.entity,
                m.AuditLog.entity_id,
                m.AuditLog.client_ids,
                m.AuditLog.before,
                m.AuditLog.after,
                m.AuditLog.source_ip,
                m.AuditLog.reason,
            )
            .where(m.AuditLog.practice_id == practice_id)
            .order_by(m.AuditLog.seq)
        )
        return [tuple(row) for row in rows]

    assert content(bulk.id) == content(one.id)
    assert content(bulk.id)[1][5] == [0, 3]
    for practice in (one, bulk):
        _chain_intact(db, practice.id)


# ----------------------------------------------------------------------------- a batch queued and sent


def test_a_batch_queued_and_sent_whole_writes_per_claim_what_one_claim_batches_write(db: Session) -> None:
    one_actor, one_claims = _practice_with_claims(db, ["ready"] * 4)
    bulk_actor, bulk_claims = _practice_with_claims(db, ["ready"] * 4)
    for claims in (one_claims, bulk_claims):
        practice = db.get_one(m.Practice, claims[0].practice_id)
        db.add(m.PracticePayer(practice_id=practice.id, payer_id=claims[0].payer_id))
    db.flush()

    for claim in one_claims:
        batch = submissions.queue_for_batch(db, actor=one_actor, claim_ids=[claim.id])
        submissions.record_batch_sent(db, actor=one_actor, batch_id=batch.id, reference="ISA13 000000001")
    batch = submissions.queue_for_batch(db, actor=bulk_actor, claim_ids=[c.id for c in bulk_claims])
    sent = submissions.record_batch_sent(db, actor=bulk_actor, batch_id=batch.id, reference="ISA13 000000001")

    assert [row.claim_id for row in sent] == [c.id for c in bulk_claims]
    for one, bulk in zip(one_claims, bulk_claims, strict=True):
        assert _history(db, bulk_actor, bulk) == _history(db, one_actor, one)
        assert _submission(db, bulk) == _submission(db, one)
    assert _history(db, bulk_actor, bulk_claims[0])["status"] == "submitted"
    with pytest.raises(InvalidInput, match="not ready"):  # sent: not queued again
        submissions.queue_for_batch(db, actor=bulk_actor, claim_ids=[bulk_claims[0].id])
    for claims in (one_claims, bulk_claims):
        _chain_intact(db, claims[0].practice_id)


def _submission(db: Session, claim: m.Claim) -> tuple[Any, ...]:
    row = db.scalars(select(m.Submission).where(m.Submission.claim_id == claim.id)).one()
    return (
        row.channel,
        row.frequency,
        row.reference,
        row.payer_claim_control_number,
        row.previous_submission_id,
    )


# ----------------------------------------------------------------------------- 999 and 277CA


def test_a_277ca_for_many_claims_writes_per_claim_what_one_claim_files_write(db: Session) -> None:
    histories = []
    for files_per_report in (True, False):
        practice = f.make_practice(db)
        actor = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
        sent = send_batch(db, practice, claims=4)
        first, second, third, fourth = sent.claims
        reports = [
            a_report(first.number, "A1", icn="P1"),  # acknowledged, its ICN kept
            a_report(second.number, "A7", code="562", message="NPI NOT ON FILE"),
            a_report(third.number, "A2", icn="P3"),
            a_report(first.number, "A2", icn="P1B"),  # the same claim again: accepted, a new ICN
            a_report(fourth.number, "A2"),
            a_report(third.number, "A2", icn="P3"),  # again, nothing new: unchanged
        ]
        files = [a_277ca(report) for report in reports] if files_per_report else [a_277ca(*reports)]
        for n, data in enumerate(files):
            ingest(db, actor=actor, practice_id=practice.id, filename=f"ack{n}.277", data=data)
        histories.append([_history(db, actor, claim) for claim in sent.claims])
        _chain_intact(db, practice.id)

    one_by_one, together = histories
    assert together == one_by_one
    assert [h["status"] for h in together] == ["accepted", "rejected", "accepted", "accepted"]
    icns = [row[5] for row in together[0]["audit"] if "payer_claim_control_number" in (row[5] or {})]
    assert icns == [{"payer_claim_control_number": "P1"}, {"payer_claim_control_number": "P1B"}]


def test_a_999_for_more_claims_than_one_chunk_acknowledges_them_all(db: Session) -> None:
    practice = f.make_practice(db)
    actor = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    sent = send_batch(db, practice, claims=CHUNK + 3)

    result = ingest(db, actor=actor, practice_id=practice.id, filename="ack.999", data=a_999(sent))

    assert len(result.summary["acknowledged"]) == CHUNK + 3
    statuses = db.execute(
        select(m.Claim.status, func.count())
        .where(m.Claim.practice_id == practice.id)
        .group_by(m.Claim.status)
    ).all()
    assert [tuple(row) for row in statuses] == [("acknowledged", CHUNK + 3)]
    events = select(func.count()).select_from(m.ClaimEvent).where(m.ClaimEvent.practice_id == practice.id)
    assert db.scalar(events) == CHUNK + 3
    _chain_intact(db, practice.id)
    assert _history(db, actor, sent.claims[-1])["audit"][0][4:6] == (
        {"status": "submitted"},
        {"status": "acknowledged", "source": "999", "correction": False},
    )
