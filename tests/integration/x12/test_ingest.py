"""Ingesting 999 and 277CA files: claims move, the file is kept once, and a file that does not
fit (truncated, for a batch we never sent, seen before) changes nothing."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.config import get_settings
from revcycle.db import models as m
from revcycle.db.engine import make_engine
from revcycle.db.migrate import upgrade
from revcycle.domain.npi import make_npi
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput
from revcycle.services.actor import Actor
from revcycle.services.x12_ingest import ingest
from revcycle.x12 import claim837 as x
from revcycle.x12.ack999 import SegmentError, write_999
from revcycle.x12.claim277 import (
    ACKNOWLEDGMENT,
    ClaimReport,
    ClaimStatusResponse,
    Envelope,
    LevelReport,
    Party,
    Status,
    StatusCode,
    write_277,
)
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.write837 import Routing, write_837
from tests import factories as f

US, CLEARINGHOUSE = "RIVERBEND", "CLEARHOUSE"
SEEN_ON = datetime.date(2026, 3, 2)
SENT_AT = datetime.datetime(2026, 3, 3, 8, 15)
OFFICE = x.Address("1 Main St", "Newark", "NJ", "07102")


@dataclass
class Sent:
    practice_id: int
    batch: m.SubmissionBatch
    claims: list[m.Claim]  # the first in transaction set 0001, the others in 0002
    text: str  # the 837


def _x12_claim(claim: m.Claim) -> x.Claim:
    line = x.ServiceLine("90837", claim.billed_cents, 1, SEEN_ON, (1,))
    return x.Claim(
        billing_provider=x.BillingProvider(
            "Riverbend", make_npi("123456789"), "371234567", "101YM0800X", OFFICE
        ),
        subscriber=x.Subscriber(
            "Doe", "Jane", "W123", address=OFFICE, birth_date=datetime.date(1985, 2, 3), sex="F"
        ),
        payer=x.Payer("Blue River", "87726"),
        patient_control_number=claim.number,
        total_charge_cents=claim.billed_cents,
        place_of_service="11",
        diagnoses=("F4110",),
        lines=(line,),
    )


def _claim_set(claims: list[m.Claim]) -> x.ClaimSet:
    return x.ClaimSet(
        submitter=x.Submitter("Riverbend", US, "Pat Biller", "2175551234"),
        receiver=x.Receiver("Clearinghouse", CLEARINGHOUSE),
        reference="B7",
        created_at=SENT_AT,
        claims=tuple(_x12_claim(c) for c in claims),
    )


def send_batch(db: Session, practice: m.Practice, *, claims: int = 3, group: int = 7) -> Sent:
    """Submitted claims in a batch whose 837 (two transaction sets) is stored."""
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, f.make_payer(db))
    provider = f.make_provider(db, practice)
    made = [
        f.make_claim(db, f.make_session(db, practice, client, provider), coverage, status="submitted")
        for _ in range(claims)
    ]
    routing = Routing("ZZ", US, "ZZ", CLEARINGHOUSE)
    text = write_837(
        [_claim_set(made[:1]), _claim_set(made[1:])],
        routing=routing,
        interchange_control_number=group,
        group_control_number=group,
    )
    content = text.encode()
    stored = m.StoredFile(
        practice_id=practice.id,
        kind="837",
        direction="out",
        filename="batch.837",
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        content=content,
    )
    db.add(stored)
    db.flush()
    interchange = read_interchanges(text)[0]
    batch = m.SubmissionBatch(
        practice_id=practice.id,
        channel="clearinghouse",
        interchange_control_number=interchange.control_number,
        group_control_number=interchange.groups[0].control_number,
        stored_file_id=stored.id,
        status="sent",
    )
    db.add(batch)
    db.flush()
    for claim in made:
        db.add(
            m.Submission(
                practice_id=practice.id, claim_id=claim.id, batch_id=batch.id, channel="clearinghouse"
            )
        )
    db.flush()
    return Sent(practice.id, batch, made, text)


def a_999(
    sent: Sent, *, rejected: tuple[str, ...] = (), errors: dict[str, list[SegmentError]] | None = None
) -> bytes:
    text = write_999(
        read_interchanges(sent.text)[0],
        interchange_control_number="000000101",
        group_control_number="101",
        sent_at=SENT_AT,
        rejected=rejected,
        errors=errors,
    )
    return text.encode()


PAYER = Party("PR", "BLUE RIVER", "87726", "PI")
RECEIVER = Party("41", "RIVERBEND", US, "46")
PROVIDER = Party("85", "RIVERBEND", make_npi("123456789"), "XX")
PATIENT = Party("QC", "DOE", "W123", "MI", first_name="JANE", kind="1")


def a_report(
    number: str, category: str, *, icn: str = "", code: str = "20", message: str = ""
) -> ClaimReport:
    status = Status(
        codes=(StatusCode(category, code),),
        effective_on=SENT_AT.date(),
        action="WQ" if category == "A2" else "U",
        charge_cents=15000,
        message=message,
    )
    return ClaimReport(
        payer=PAYER,
        information_receiver=RECEIVER,
        provider=PROVIDER,
        patient=PATIENT,
        trace_number=number,
        patient_control_number=number,
        statuses=(status,),
        payer_claim_control_number=icn,
        service_from=SEEN_ON,
        service_to=SEEN_ON,
    )


def a_277ca(*reports: ClaimReport) -> bytes:
    response = ClaimStatusResponse(
        implementation=ACKNOWLEDGMENT,
        reference="B7",
        created_on=SENT_AT.date(),
        created_time="0815",
        claims=reports,
        levels=(
            LevelReport(
                "20", PAYER, trace_number="77", dates=(("050", SENT_AT.date()), ("009", SENT_AT.date()))
            ),
            LevelReport("21", RECEIVER, trace_number="B7"),
            LevelReport("19", PROVIDER, trace_number="PRV1"),
        ),
    )
    envelope = Envelope("ZZ", "BLUERIVER", "ZZ", US, "000000077", "77", SENT_AT)
    return write_277([response], envelope).encode()


@pytest.fixture
def practice(db: Session) -> m.Practice:
    return f.make_practice(db)


@pytest.fixture
def biller(db: Session, practice: m.Practice) -> Actor:
    return f.actor_for(db, f.make_user(db, practice, Role.BILLING))


def statuses(db: Session, sent: Sent) -> list[str]:
    for claim in sent.claims:
        db.refresh(claim)
    return [claim.status for claim in sent.claims]


def written(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(m.X12InboundFile)) or 0,
        db.scalar(select(func.count()).select_from(m.StoredFile).where(m.StoredFile.direction == "in")) or 0,
        db.scalar(select(func.count()).select_from(m.ClaimEvent)) or 0,
    )


# ----------------------------------------------------------------------------- 999


def test_an_accepted_999_acknowledges_every_claim_of_the_batch(
    db: Session, practice: m.Practice, biller: Actor
) -> None:
    sent = send_batch(db, practice)
    result = ingest(db, actor=biller, practice_id=practice.id, filename="ack.999", data=a_999(sent))
    assert result.status == "applied"
    assert result.kind == "999"
    assert statuses(db, sent) == ["acknowledged"] * 3
    assert [row["claim"] for row in result.summary["acknowledged"]] == [c.number for c in sent.claims]
    db.refresh(sent.batch)
    assert sent.batch.status == "accepted"
    inbound = db.get_one(m.X12InboundFile, result.inbound_file_id)
    stored = db.get_one(m.StoredFile, inbound.stored_file_id)
    assert (inbound.transaction_set, inbound.sender_id, stored.kind, stored.direction) == (
        "999",
        CLEARINGHOUSE,
        "999",
        "in",
    )
    events = db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == sent.claims[0].id)).all()
    assert [(e.to_status, e.source) for e in events] == [("acknowledged", "999")]


def test_a_rejected_transaction_set_rejects_its_claims_with_the_errors(
    db: Session, practice: m.Practice, biller: Actor
) -> None:
    sent = send_batch(db, practice)
    error = SegmentError("NM1", 14, "8", loop="2010BA", claim_id=sent.claims[1].number)
    data = a_999(sent, rejected=("0002",), errors={"0002": [error]})
    result = ingest(db, actor=biller, practice_id=practice.id, filename="ack.999", data=data)
    assert statuses(db, sent) == ["acknowledged", "rejected", "rejected"]
    db.refresh(sent.batch)
    assert sent.batch.status == "partially_accepted"
    rejected = {row["claim"]: row["detail"] for row in result.summary["rejected"]}
    assert "NM1 at 14 (loop 2010BA): 8" in rejected[sent.claims[1].number]
    assert "NM1" not in rejected[sent.claims[2].number]
    event = db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == sent.claims[1].id)).one()
    assert (event.to_status, event.source) == ("rejected", "999")
    assert "2010BA" in event.detail


def test_a_late_999_does_not_pull_an_accepted_claim_back(
    db: Session, practice: m.Practice, biller: Actor
) -> None:
    sent = send_batch(db, practice)
    sent.claims[0].status = "accepted"
    db.flush()
    result = ingest(db, actor=biller, practice_id=practice.id, filename="ack.999", data=a_999(sent))
    assert statuses(db, sent) == ["accepted", "acknowledged", "acknowledged"]
    assert [row["claim"] for row in result.summary["not_applied"]] == [sent.claims[0].number]


def test_the_same_file_twice_changes_nothing_the_second_time(
    db: Session, practice: m.Practice, biller: Actor
) -> None:
    sent = send_batch(db, practice)
    data = a_999(sent)
    first = ingest(db, actor=biller, practice_id=practice.id, filename="ack.999", data=data)
    before = written(db)
    again = ingest(db, actor=biller, practice_id=practice.id, filename="copy.999", data=data)
    assert again.status == "duplicate"
    assert again.inbound_file_id == first.inbound_file_id
    assert again.summary == first.summary
    assert written(db) == before


def test_a_999_for_a_batch_we_never_sent_is_refused(db: Session, practice: m.Practice, biller: Actor) -> None:
    other = f.make_practice(db)
    sent = send_batch(db, other)  # another practice's batch: not ours
    before = written(db)
    with pytest.raises(InvalidInput, match="never sent"):
        ingest(db, actor=biller, practice_id=practice.id, filename="ack.999", data=a_999(sent))
    assert written(db) == before
    assert set(statuses(db, sent)) == {"submitted"}


def test_a_truncated_file_is_refused_naming_where(db: Session, practice: m.Practice, biller: Actor) -> None:
    sent = send_batch(db, practice)
    data = a_999(sent)
    cut = data[: data.index(b"AK9")]
    before = written(db)
    with pytest.raises(InvalidInput) as refused:
        ingest(db, actor=biller, practice_id=practice.id, filename="cut.999", data=cut)
    assert "cut.999" in refused.value.detail
    assert "segment 3 (ST)" in refused.value.detail
    assert "truncated" in refused.value.detail
    assert written(db) == before


# ----------------------------------------------------------------------------- 277CA


def test_a_277ca_accepts_rejects_and_lists_the_unknown(
    db: Session, practice: m.Practice, biller: Actor
) -> None:
    sent = send_batch(db, practice)
    first, second, third = sent.claims
    data = a_277ca(
        a_report(first.number, "A2", icn="2026062000123"),
        a_report(second.number, "A7", code="562", message="NPI NOT ON FILE"),
        a_report("NOSUCHCLAIM", "A2"),
    )
    result = ingest(db, actor=biller, practice_id=practice.id, filename="ack.277", data=data)
    assert result.kind == "277CA"
    assert statuses(db, sent) == ["accepted", "rejected", "submitted"]
    assert first.payer_claim_control_number == "2026062000123"
    assert [row["claim"] for row in result.summary["unmatched"]] == ["NOSUCHCLAIM"]
    event = db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == second.id)).one()
    assert (event.to_status, event.source) == ("rejected", "277CA")
    assert "A7:562" in event.detail
    assert "NPI NOT ON FILE" in event.detail
    assert third.number not in str(result.summary)
    inbound = db.get_one(m.X12InboundFile, result.inbound_file_id)
    assert (inbound.transaction_set, inbound.implementation) == ("277", ACKNOWLEDGMENT)


def test_a_utf8_file_with_a_byte_order_mark_is_read(db: Session, practice: m.Practice, biller: Actor) -> None:
    sent = send_batch(db, practice)
    data = b"\xef\xbb\xbf" + a_277ca(a_report(sent.claims[0].number, "A1"))
    result = ingest(db, actor=biller, practice_id=practice.id, filename="bom.277", data=data)
    assert statuses(db, sent)[0] == "acknowledged"
    assert result.status == "applied"


# ----------------------------------------------------------------------------- CLI


@dataclass
class Installation:
    engine: Engine
    practice_id: int
    claim_numbers: list[str]
    ack: bytes


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installation]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        sent = send_batch(session, f.make_practice(session))
        found = Installation(engine, sent.practice_id, [c.number for c in sent.claims], a_999(sent))
        session.commit()
    monkeypatch.setenv("REVCYCLE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield found
    get_settings.cache_clear()
    engine.dispose()


def test_the_cli_ingests_and_validates(installation: Installation, tmp_path: Path) -> None:
    path = tmp_path / "ack.999"
    path.write_bytes(installation.ack)
    runner = CliRunner()
    checked = runner.invoke(build_app(), ["x12", "validate", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "999" in checked.output
    first = runner.invoke(build_app(), ["x12", "ingest", str(path), "--json"])
    assert first.exit_code == 0, first.output
    assert '"status": "applied"' in first.output
    again = runner.invoke(build_app(), ["x12", "ingest", str(path)])
    assert again.exit_code == 0, again.output
    assert "duplicate" in again.output
    assert "acknowledged: claim " in again.output  # each claim it answered, in plain text
    with Session(installation.engine) as session:
        rows = session.scalars(select(m.Claim.status).where(m.Claim.practice_id == installation.practice_id))
        assert set(rows) == {"acknowledged"}


def test_the_cli_refuses_a_truncated_file(installation: Installation, tmp_path: Path) -> None:
    path = tmp_path / "cut.999"
    path.write_bytes(installation.ack[: installation.ack.index(b"AK9")])
    for command in ("validate", "ingest"):
        result = CliRunner().invoke(build_app(), ["x12", command, str(path)])
        assert result.exit_code == 1, result.output
        assert "truncated" in result.output
