"""Ingesting X12 files that answer what we sent: 999 acknowledgments, 277CA claim
acknowledgments, 277 claim status responses and 271 eligibility responses (applied by
:func:`revcycle.services.eligibility.apply_271`).

A file is read whole before anything changes: any structural problem refuses it, naming the
file, the segment position, the segment id and the element, and nothing is written. A file
we accept is stored raw (a :class:`StoredFile`) and recorded once per practice by its SHA-256
(an :class:`X12InboundFile`); the same file ingested again changes nothing and says so.

* A 999 answers one functional group we sent. We find the batch by its group control number
  (AK102) and check the 999 comes back from the party we sent it to; a 999 for a group we
  never sent is refused. Each transaction set's IK5 moves its claims: accepted (A, E) to
  acknowledged, rejected (R, M, W, X) to rejected, with the IK3/IK4 errors that concern each
  claim (found from the 837 we stored) in the event's detail.
* A 277CA reports on claims one by one, by our patient control number (claims.number). The
  category code of each claim's first STC sets its status through the domain's mapping; the
  payer's claim control number (REF*1K) is kept on the claim. Claims we cannot find are
  listed, never guessed.
* A 277 (005010X212) answers our 276 inquiries. Each claim report finds its inquiry by the
  trace number we sent (TRN02), else its claim by patient control number (and then the
  claim's latest unanswered inquiry, if any). The inquiry is answered (category, status code,
  effective date, the inbound file) and the claim moves through the domain's 277 mapping:
  pending means the payer has it (accepted), finalized moves it to adjudicated, denied or
  rejected. The payer's claim control number is kept as for a 277CA.

A move the status table refuses (a late 999 after the 277CA already accepted the claim) is
listed in the result as not applied; it is not an error. All or nothing per file: the caller
commits once.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle import collector
from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import (
    ClaimStatus,
    EventSource,
    InvalidTransition,
    check_transition,
    status_from_277,
    status_from_277ca,
    status_from_999,
)
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks
from revcycle.services.claims import ClaimMove, transition_claims
from revcycle.services.eligibility import apply_271
from revcycle.services.remittance_posting import post_remittances
from revcycle.services.stored_files import store_file
from revcycle.x12.ack999 import Ack999, SegmentError, TransactionAck, claims_concerned, parse_999
from revcycle.x12.claim277 import (
    ACKNOWLEDGMENT,
    STATUS_RESPONSE,
    ClaimReport,
    ClaimStatusResponse,
    Status,
    parse_277,
)
from revcycle.x12.envelope import FunctionalGroup, Interchange, Transaction, read_interchanges
from revcycle.x12.errors import X12Error
from revcycle.x12.read835 import parse_835
from revcycle.x12.read837 import read_claim_set
from revcycle.x12.remit835 import Remittance, balance_problems

__all__ = ["IngestResult", "decode", "detect", "ingest", "read_file", "transaction_sets"]

ACK_999 = "999"
CLAIM_ACK_277 = "277CA"
STATUS_277 = "277"
ELIGIBILITY_271 = "271"
REMITTANCE_835 = "835"
_NOT_TAKEN = {
    "837": "an 837 is a claim file we send, not one we receive",
    "997": "a 997 acknowledges 4010 files; 5010 claims are answered by a 999",
    "276": "a 276 is a status inquiry we send, not one we receive",
    "270": "a 270 is an eligibility inquiry we send, not one we receive",
}


@dataclass(frozen=True)
class IngestResult:
    """What one file did: ``status`` is "applied", or "duplicate" for a file seen before
    (its summary is the earlier one)."""

    inbound_file_id: int
    status: str
    kind: str  # "999" | "277CA" | "277"
    summary: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading


def decode(data: bytes) -> str:
    """UTF-8 when the file starts with its byte-order mark, else Latin-1 (which reads any byte)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput(f"the file claims UTF-8 but byte {error.start} is not UTF-8") from None
    return data.decode("latin-1")


def read_file(filename: str, data: bytes) -> list[Interchange]:
    """The file's interchanges; an X12 problem becomes an InvalidInput naming the file and where."""
    try:
        with collector.paused():
            interchanges = read_interchanges(decode(data))
    except X12Error as error:
        raise InvalidInput(f"{filename}: {error}") from None
    except InvalidInput as error:
        raise InvalidInput(f"{filename}: {error.detail}") from None
    if not any(group.transactions for ic in interchanges for group in ic.groups):
        raise InvalidInput(f"{filename}: no transaction set in the file")
    return interchanges


def transaction_sets(filename: str, interchanges: list[Interchange]) -> dict[str, int]:
    """Parse every 999, 277 and 837 transaction set with our readers (a structural check that
    writes nothing): "set (implementation)" -> count; InvalidInput names where one breaks."""
    kinds: dict[str, int] = {}
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                try:
                    if transaction.set_id == "999":
                        parse_999(transaction)
                    elif transaction.set_id == "277":
                        parse_277(transaction, version=group.version)
                    elif transaction.set_id == "837":
                        read_claim_set(transaction)
                    elif transaction.set_id == "835":
                        parse_835(transaction, version=group.version)
                except X12Error as error:
                    raise InvalidInput(f"{filename}: {error}") from None
                kind = transaction.implementation or group.version or transaction.set_id
                label = f"{transaction.set_id} ({kind})"
                kinds[label] = kinds.get(label, 0) + 1
    return kinds


def _kind_of(group: FunctionalGroup, transaction: Transaction) -> str:
    implementation = transaction.implementation or group.version
    if transaction.set_id == "999":
        return ACK_999
    if transaction.set_id == "277" and implementation.startswith(ACKNOWLEDGMENT):
        return CLAIM_ACK_277
    if transaction.set_id == "277" and implementation.startswith(STATUS_RESPONSE):
        return "277"
    return transaction.set_id


def detect(filename: str, interchanges: Sequence[Interchange]) -> str:
    """The one kind of file this is ("999", "277CA" or "277"); other kinds are refused by name."""
    kinds = {_kind_of(g, t) for ic in interchanges for g in ic.groups for t in g.transactions}
    if len(kinds) != 1:
        raise InvalidInput(f"{filename}: one file holds one kind of transaction set, not {sorted(kinds)}")
    kind = kinds.pop()
    if kind in (ACK_999, CLAIM_ACK_277, STATUS_277, ELIGIBILITY_271, REMITTANCE_835):
        return kind
    first = next(t for ic in interchanges for g in ic.groups for t in g.transactions)
    what = _NOT_TAKEN.get(kind, f"transaction set {kind} is not one we receive")
    raise InvalidInput(
        f"{filename}: segment {first.position} (ST), ST01: {what}; "
        "only 999, 277CA, 277, 271 and 835 files are ingested"
    )


def _transactions(
    interchanges: Sequence[Interchange],
) -> Iterator[tuple[Interchange, FunctionalGroup, Transaction]]:
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                yield interchange, group, transaction


# ----------------------------------------------------------------------------- ingesting


def ingest(db: Session, *, actor: Actor, practice_id: int, filename: str, data: bytes) -> IngestResult:
    """Read, store and apply one 999, 277CA or 277 file for ``practice_id`` (see the module doc)."""
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = db.scalars(
        select(m.X12InboundFile).where(
            m.X12InboundFile.practice_id == practice_id, m.X12InboundFile.sha256 == sha256
        )
    ).one_or_none()
    if earlier is not None:
        return IngestResult(earlier.id, "duplicate", _recorded_kind(earlier), dict(earlier.summary))
    interchanges = read_file(filename, data)
    kind = detect(filename, interchanges)
    if kind == ELIGIBILITY_271:
        return _ingest_271(db, actor, practice_id, filename=filename, data=data, interchanges=interchanges)
    if kind == REMITTANCE_835:
        return _ingest_835(db, actor, practice_id, filename=filename, data=data, interchanges=interchanges)
    answered: list[m.ClaimStatusInquiry] = []
    if kind == ACK_999:
        summary = _apply_999(db, actor, practice_id, filename, interchanges)
    elif kind == CLAIM_ACK_277:
        summary = _apply_277ca(db, actor, practice_id, filename, interchanges)
    else:
        summary, answered = _apply_277(db, actor, practice_id, filename, interchanges)
    inbound = _record(
        db,
        actor,
        practice_id,
        filename=filename,
        data=data,
        sha256=sha256,
        kind=kind,
        interchanges=interchanges,
        summary=summary,
    )
    for inquiry in answered:
        inquiry.response_file_id = inbound.id
    db.flush()
    return IngestResult(inbound.id, "applied", kind, summary)


def remittances(
    filename: str, interchanges: Sequence[Interchange], *, release: bool = False
) -> list[tuple[Remittance, str]]:
    """Every payment of an 835 file with its content hash (:func:`content_sha256`: the same
    payment sent again under new control numbers is the same). With ``release`` the caller
    gives the interchanges up: each transaction is emptied of its segments as it is read."""
    found = []
    with collector.paused():
        for _, group, transaction in _transactions(interchanges):
            digest = content_sha256(transaction)
            try:
                remittance = parse_835(transaction, version=group.version, release=release)
            except X12Error as error:
                raise InvalidInput(f"{filename}: {error}") from None
            found.append((remittance, digest))
    return found


def content_sha256(transaction: Transaction) -> str:
    """SHA-256 over the transaction's segments between ST and SE, each as its id and elements
    (so neither control numbers nor delimiters change it), one per line."""
    digest = hashlib.sha256()
    separator = b""
    for segment in transaction.segments:
        digest.update(separator)
        digest.update(repr((segment.id, segment.elements)).encode())
        separator = b"\n"
    return digest.hexdigest()


def remittances_of(filename: str, data: bytes) -> list[tuple[Remittance, str]]:
    """:func:`remittances` of a stored file."""
    return remittances(filename, read_file(filename, data), release=True)


def _ingest_835(
    db: Session,
    actor: Actor,
    practice_id: int,
    *,
    filename: str,
    data: bytes,
    interchanges: list[Interchange],
) -> IngestResult:
    """Read every payment, refuse the file if any does not balance (naming the payment and the
    difference), record the file once (a concurrent ingestion of the same file waits on the
    unique hash and then reports it a duplicate), then post (:mod:`remittance_posting`)."""
    actor.require(practice_id, Permission.POST_PAYMENTS)
    payments = remittances(filename, interchanges, release=True)
    for remittance, _ in payments:
        problems = balance_problems(remittance)
        if problems:
            where = f"payment {remittance.trace.number} (ST {remittance.control_number})"
            raise InvalidInput(f"{filename}: {where} does not balance: {problems[0]}")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with db.begin_nested():
            inbound = _record(
                db,
                actor,
                practice_id,
                filename=filename,
                data=data,
                sha256=sha256,
                kind=REMITTANCE_835,
                interchanges=interchanges,
                summary={},
            )
    except IntegrityError:
        earlier = db.scalars(
            select(m.X12InboundFile).where(
                m.X12InboundFile.practice_id == practice_id, m.X12InboundFile.sha256 == sha256
            )
        ).one()
        return IngestResult(earlier.id, "duplicate", REMITTANCE_835, dict(earlier.summary))
    reports = post_remittances(
        db, actor=actor, practice_id=practice_id, inbound=inbound, remittances=payments
    )
    inbound.summary = {"payments": [report.as_dict() for report in reports]}
    db.flush()
    return IngestResult(inbound.id, "applied", REMITTANCE_835, dict(inbound.summary))


def _ingest_271(
    db: Session,
    actor: Actor,
    practice_id: int,
    *,
    filename: str,
    data: bytes,
    interchanges: Sequence[Interchange],
) -> IngestResult:
    """A 271 is applied by the eligibility service, which points each check at the inbound
    file: so the file is recorded first and its summary filled in after."""
    inbound = _record(
        db,
        actor,
        practice_id,
        filename=filename,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        kind=ELIGIBILITY_271,
        interchanges=interchanges,
        summary={},
    )
    summary = apply_271(
        db, actor=actor, practice_id=practice_id, inbound_file=inbound, interchanges=interchanges
    )
    inbound.summary = summary
    db.flush()
    return IngestResult(inbound.id, "applied", ELIGIBILITY_271, summary)


def _recorded_kind(inbound: m.X12InboundFile) -> str:
    if inbound.transaction_set != "277":
        return inbound.transaction_set
    return STATUS_277 if inbound.implementation.startswith(STATUS_RESPONSE) else CLAIM_ACK_277


def _record(
    db: Session,
    actor: Actor,
    practice_id: int,
    *,
    filename: str,
    data: bytes,
    sha256: str,
    kind: str,
    interchanges: Sequence[Interchange],
    summary: dict[str, Any],
) -> m.X12InboundFile:
    stored = store_file(
        db, actor=actor, practice_id=practice_id, kind=kind, direction="in", filename=filename, content=data
    )
    first = interchanges[0]
    inbound = m.X12InboundFile(
        practice_id=practice_id,
        stored_file_id=stored.id,
        sha256=sha256,
        transaction_set="277" if kind == CLAIM_ACK_277 else kind,
        implementation=first.groups[0].version if first.groups else "",
        sender_id=first.sender_id,
        interchange_control_number=first.control_number,
        status="applied",
        summary=summary,
        received_by_user_id=actor.user_id,
        applied_at=utcnow(),
    )
    db.add(inbound)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="x12_inbound_file",
        entity_id=inbound.id,
        after={
            "filename": filename,
            "kind": kind,
            "sha256": sha256,
            "stored_file_id": stored.id,
            **_counts(summary),
        },
    )
    return inbound


def _counts(summary: dict[str, Any]) -> dict[str, int]:
    return {key: len(value) for key, value in summary.items() if isinstance(value, list)}


@dataclass
class _Outcome:
    """The claims one file moved, left alone or could not find.

    The changes themselves (status moves, and audit rows for the payer claim control numbers
    kept) are collected as ``changes`` and written together by :func:`_write`: the rows are
    those applying each answer in turn would write, in the same order for each claim, with a
    few statements per thousand claims instead of several per claim.
    """

    moved: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    not_applied: list[dict[str, str]] = field(default_factory=list)
    changes: list[_Change] = field(default_factory=list)
    planned: dict[int, ClaimStatus] = field(default_factory=dict)  # claim id -> status once moved

    def status_of(self, claim: m.Claim) -> ClaimStatus:
        return self.planned.get(claim.id, ClaimStatus(claim.status))

    def pending(self) -> list[_Change]:
        """The changes collected since the last call, handed over to be written."""
        changes, self.changes = self.changes, []
        return changes

    def write(self, db: Session, actor: Actor) -> None:
        _write(db, actor, self.pending())

    def summary(self, **more: Any) -> dict[str, Any]:
        return {
            "acknowledged": self.moved.get("acknowledged", []),
            "accepted": self.moved.get("accepted", []),
            "rejected": self.moved.get("rejected", []),
            **{str(status): self.moved[str(status)] for status in _LATER if str(status) in self.moved},
            "unchanged": self.unchanged,
            "not_applied": self.not_applied,
            **more,
        }


_LATER = (ClaimStatus.ADJUDICATED, ClaimStatus.DENIED)
_Change = tuple[m.Claim, ClaimMove | audit.Entry]  # a claim's move, or an audit row about it


def _write(db: Session, actor: Actor, changes: Sequence[_Change]) -> None:
    """Write ``changes`` in rounds: a claim's first change in the first round, its second in
    the second, and so on; each round appends its audit rows (one lock of the head per
    practice), then makes its moves (one :func:`transition_claims`). Each claim's rows come
    in the order of its changes, as when written one at a time."""
    rounds: list[list[_Change]] = []
    seen: dict[int, int] = {}
    for claim, change in changes:
        n = seen[claim.id] = seen.get(claim.id, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append((claim, change))
    for round_ in rounds:
        entries: dict[int, list[audit.Entry]] = {}
        for claim, change in round_:
            if isinstance(change, audit.Entry):
                entries.setdefault(claim.practice_id, []).append(change)
        for practice_id, rows in entries.items():
            audit.record_many(db, actor=actor, practice_id=practice_id, entries=rows)
        moves = [change for _, change in round_ if isinstance(change, ClaimMove)]
        transition_claims(db, actor=actor, moves=moves)


def _move(
    outcome: _Outcome,
    claim: m.Claim,
    *,
    target: ClaimStatus,
    source: EventSource,
    detail: str,
) -> None:
    current = outcome.status_of(claim)
    if current == target:
        outcome.unchanged.append(claim.number)
        return
    try:
        check_transition(current, target)
    except InvalidTransition as refused:
        outcome.not_applied.append({"claim": claim.number, "reason": str(refused)})
        return
    outcome.planned[claim.id] = target
    outcome.changes.append((claim, ClaimMove(claim.id, target, source, detail)))
    outcome.moved.setdefault(str(target), []).append({"claim": claim.number, "detail": detail})


# ----------------------------------------------------------------------------- 999


def _apply_999(
    db: Session, actor: Actor, practice_id: int, filename: str, interchanges: Sequence[Interchange]
) -> dict[str, Any]:
    outcome = _Outcome()
    batches: list[dict[str, str]] = []
    steps: list[tuple[m.SubmissionBatch, Ack999, list[_Change]]] = []
    for interchange, _group, transaction in _transactions(interchanges):  # read it all: refuse before writing
        try:
            ack = parse_999(transaction)
        except X12Error as error:
            raise InvalidInput(f"{filename}: {error}") from None
        batch, sent = _batch_for(db, practice_id, filename, interchange, ack)
        claims = _batch_claims(db, batch)
        for transaction_ack in ack.transactions:
            _apply_transaction_ack(outcome, filename=filename, group=sent, ack=transaction_ack, claims=claims)
        steps.append((batch, ack, outcome.pending()))
        batches.append({"batch_id": str(batch.id), "group": ack.group_control_number, "code": ack.code})
    for batch, ack, changes in steps:  # then write, group by group
        _write(db, actor, changes)
        _set_batch_status(db, actor, batch, ack)
    return outcome.summary(batches=batches)


def _same_number(a: str, b: str) -> bool:
    return a.lstrip("0") == b.lstrip("0") and a.isdigit() and b.isdigit()


def _batch_for(
    db: Session, practice_id: int, filename: str, interchange: Interchange, ack: Ack999
) -> tuple[m.SubmissionBatch, FunctionalGroup]:
    """The batch (and its stored 837 group) that ``ack`` answers, sent to whoever sent the 999."""
    candidates = db.scalars(
        select(m.SubmissionBatch).where(
            m.SubmissionBatch.practice_id == practice_id,
            m.SubmissionBatch.group_control_number != "",
            m.SubmissionBatch.stored_file_id.is_not(None),
        )
    )
    for batch in candidates:
        if not _same_number(batch.group_control_number, ack.group_control_number):
            continue
        sent = _sent_group(db, batch, ack.group_control_number)
        if sent is not None and _answers(interchange, *sent):
            return batch, sent[1]
    raise InvalidInput(
        f"{filename}: the 999 acknowledges group {ack.group_control_number} from "
        f"{interchange.receiver_id or '?'} to {interchange.sender_id or '?'}, "
        "which this practice never sent; nothing was applied"
    )


def _sent_group(
    db: Session, batch: m.SubmissionBatch, group_control_number: str
) -> tuple[Interchange, FunctionalGroup] | None:
    stored = db.get(m.StoredFile, batch.stored_file_id)
    if stored is None:
        return None
    try:
        interchanges = read_interchanges(decode(stored.content))
    except X12Error:
        return None
    for interchange in interchanges:
        for group in interchange.groups:
            if _same_number(group.control_number, group_control_number):
                return interchange, group
    return None


def _answers(reply: Interchange, sent: Interchange, group: FunctionalGroup) -> bool:
    """A 999 comes back from the receiver of our interchange to its sender."""
    del group
    return reply.sender_id == sent.receiver_id and reply.receiver_id == sent.sender_id


def _batch_claims(db: Session, batch: m.SubmissionBatch) -> dict[str, m.Claim]:
    rows = db.scalars(
        select(m.Claim)
        .join(m.Submission, m.Submission.claim_id == m.Claim.id)
        .where(m.Submission.batch_id == batch.id)
    )
    return {claim.number: claim for claim in rows}


def _claim_numbers(transaction: Transaction) -> list[str]:
    return [segment.element(1) for segment in transaction.segments if segment.id == "CLM"]


def _apply_transaction_ack(
    outcome: _Outcome,
    *,
    filename: str,
    group: FunctionalGroup,
    ack: TransactionAck,
    claims: dict[str, m.Claim],
) -> None:
    sent = next((t for t in group.transactions if t.control_number == ack.control_number), None)
    if sent is None:
        raise InvalidInput(
            f"{filename}: AK2 names transaction set {ack.control_number}, which group "
            f"{group.control_number} did not hold; nothing was applied"
        )
    try:
        target = status_from_999(ack.code)
    except ValueError as error:
        raise InvalidInput(f"{filename}: {error}") from None
    errors_by_claim = _errors_by_claim(sent, ack.segment_errors)
    for number in _claim_numbers(sent):
        claim = claims.get(number)
        if claim is None:
            raise InvalidInput(
                f"{filename}: claim {number} of the 837 is not in its batch; nothing was applied"
            )
        detail = _detail_999(ack, errors_by_claim.get(number, []))
        _move(outcome, claim, target=target, source=EventSource.X12_999, detail=detail)


def _errors_by_claim(sent: Transaction, errors: Sequence[SegmentError]) -> dict[str, list[SegmentError]]:
    found: dict[str, list[SegmentError]] = {}
    for error in errors:
        for number in claims_concerned(sent, error):
            found.setdefault(number, []).append(error)
    return found


def _describe_error(error: SegmentError) -> str:
    text = f"{error.segment_id} at {error.position}"
    if error.loop:
        text += f" (loop {error.loop})"
    text += f": {error.code} {error.meaning}"
    for element in error.elements:
        text += f"; element {element.element}: {element.code} {element.meaning}"
    return text


def _detail_999(ack: TransactionAck, errors: Sequence[SegmentError]) -> str:
    head = f"999 transaction set {ack.control_number}: {ack.code} {ack.meaning}"
    if not ack.accepted and not errors:
        texts = list(ack.error_texts) or ["rejected with the rest of its transaction set"]
        return f"{head}; " + "; ".join(texts)
    return "; ".join([head, *(_describe_error(error) for error in errors)])


_BATCH_STATUS = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted"}


def _set_batch_status(db: Session, actor: Actor, batch: m.SubmissionBatch, ack: Ack999) -> None:
    status = _BATCH_STATUS.get(ack.code, "rejected")
    if batch.status == status:
        return
    before = batch.status
    batch.status = status
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=batch.practice_id,
        action="update",
        entity="submission_batch",
        entity_id=batch.id,
        before={"status": before},
        after={"status": status},
        reason=f"999 AK9 {ack.code}",
    )


# ----------------------------------------------------------------------------- 277CA


def _apply_277ca(
    db: Session, actor: Actor, practice_id: int, filename: str, interchanges: Sequence[Interchange]
) -> dict[str, Any]:
    outcome = _Outcome()
    unmatched: list[dict[str, str]] = []
    noted: list[dict[str, str]] = []
    reports = [report for response in _responses(filename, interchanges) for report in response.claims]
    claims = _claims_by_number(db, practice_id, [report.patient_control_number for report in reports])
    for report in reports:
        claim = claims.get(report.patient_control_number)
        if claim is None:
            unmatched.append({"claim": report.patient_control_number, "segment": str(report.position)})
            continue
        _keep_icn(outcome, claim, report, reason="277CA REF*1K")
        try:
            target = status_from_277ca(report.category)
        except ValueError as error:
            raise InvalidInput(f"{filename}: segment {report.position}: {error}") from None
        detail = _detail_277(report)
        if target is None:
            noted.append({"claim": claim.number, "detail": detail})
            continue
        _move(outcome, claim, target=target, source=EventSource.X12_277CA, detail=detail)
    outcome.write(db, actor)
    return outcome.summary(unmatched=unmatched, noted=noted)


def _responses(filename: str, interchanges: Sequence[Interchange]) -> Iterator[ClaimStatusResponse]:
    for _interchange, group, transaction in _transactions(interchanges):
        try:
            yield parse_277(transaction, version=group.version)
        except X12Error as error:
            raise InvalidInput(f"{filename}: {error}") from None


def _claim_by_number(db: Session, practice_id: int, number: str) -> m.Claim | None:
    return _claims_by_number(db, practice_id, [number]).get(number)


def _claims_by_number(db: Session, practice_id: int, numbers: Sequence[str]) -> dict[str, m.Claim]:
    """The practice's claims by patient control number (claims.number), by chunks of numbers."""
    wanted = sorted({number for number in numbers if number})
    found: dict[str, m.Claim] = {}
    for chunk in chunks(wanted):
        query = select(m.Claim).where(m.Claim.practice_id == practice_id, m.Claim.number.in_(chunk))
        found.update((claim.number, claim) for claim in db.scalars(query))
    return found


def _keep_icn(outcome: _Outcome, claim: m.Claim, report: ClaimReport, *, reason: str) -> None:
    icn = report.payer_claim_control_number
    if not icn or icn == claim.payer_claim_control_number:
        return
    before = claim.payer_claim_control_number
    claim.payer_claim_control_number = icn
    outcome.changes.append(
        (
            claim,
            audit.Entry(
                action="update",
                entity="claim",
                entity_id=claim.id,
                client_ids=[claim.client_id],
                before={"payer_claim_control_number": before},
                after={"payer_claim_control_number": icn},
                reason=reason,
            ),
        )
    )


def _status_text(status: Status) -> str:
    codes = ", ".join(
        ":".join(part for part in (code.category, code.status, code.entity) if part) for code in status.codes
    )
    return f"{codes} {status.message}".strip()


def _detail_277(report: ClaimReport, kind: str = CLAIM_ACK_277) -> str:
    texts = [_status_text(status) for status in report.statuses]
    detail = f"{kind} " + "; ".join(texts)
    if report.payer_claim_control_number:
        detail += f"; payer claim {report.payer_claim_control_number}"
    return detail


# ----------------------------------------------------------------------------- 277 (X212)


def _apply_277(
    db: Session, actor: Actor, practice_id: int, filename: str, interchanges: Sequence[Interchange]
) -> tuple[dict[str, Any], list[m.ClaimStatusInquiry]]:
    outcome = _Outcome()
    unmatched: list[dict[str, str]] = []
    noted: list[dict[str, str]] = []
    answered: list[m.ClaimStatusInquiry] = []
    for response in _responses(filename, interchanges):
        for report in response.claims:
            inquiry, claim = _inquiry_and_claim(db, practice_id, report)
            if claim is None:
                unmatched.append(
                    {
                        "trace": report.trace_number,
                        "claim": report.patient_control_number,
                        "segment": str(report.position),
                    }
                )
                continue
            try:
                target = status_from_277(report.category)
            except ValueError as error:
                raise InvalidInput(f"{filename}: segment {report.position}: {error}") from None
            if inquiry is not None:
                _answer(inquiry, report)
                answered.append(inquiry)
            _keep_icn(outcome, claim, report, reason="277 REF*1K")
            detail = _detail_277(report, STATUS_277)
            if target is None:
                noted.append({"claim": claim.number, "detail": detail})
                continue
            _move(outcome, claim, target=target, source=EventSource.X12_277, detail=detail)
    outcome.write(db, actor)
    answers = [
        {"trace": i.trace_number, "category": i.category_code, "status": i.status_code} for i in answered
    ]
    return outcome.summary(unmatched=unmatched, noted=noted, answered=answers), answered


def _inquiry_and_claim(
    db: Session, practice_id: int, report: ClaimReport
) -> tuple[m.ClaimStatusInquiry | None, m.Claim | None]:
    """The inquiry a report answers (by trace number) and its claim; else the claim by its
    number and that claim's latest unanswered inquiry."""
    if report.trace_number:
        inquiry = db.scalars(
            select(m.ClaimStatusInquiry).where(
                m.ClaimStatusInquiry.practice_id == practice_id,
                m.ClaimStatusInquiry.trace_number == report.trace_number,
            )
        ).one_or_none()
        if inquiry is not None:
            return inquiry, db.get_one(m.Claim, inquiry.claim_id)
    claim = _claim_by_number(db, practice_id, report.patient_control_number)
    if claim is None:
        return None, None
    latest = db.scalars(
        select(m.ClaimStatusInquiry)
        .where(m.ClaimStatusInquiry.claim_id == claim.id, m.ClaimStatusInquiry.answered_at.is_(None))
        .order_by(m.ClaimStatusInquiry.id.desc())
        .limit(1)
    ).one_or_none()
    return latest, claim


def _answer(inquiry: m.ClaimStatusInquiry, report: ClaimReport) -> None:
    first = report.statuses[0]
    inquiry.category_code = first.codes[0].category[:5]
    inquiry.status_code = first.codes[0].status[:5]
    inquiry.status_effective_on = first.effective_on
    inquiry.answered_at = utcnow()
