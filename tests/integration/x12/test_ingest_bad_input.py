"""Bad input given to ``x12_ingest.ingest`` (issue 5, point 9): each file is refused with an
InvalidInput naming the file, the segment position, the segment id and the element, and
nothing is written — no claim moves, no inbound file, no stored file, no claim event, no audit
row. The same acknowledgment ingested twice changes nothing the second time and says so."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput
from revcycle.services.actor import Actor
from revcycle.services.x12_ingest import IngestResult, ingest
from revcycle.x12.envelope import FunctionalGroup, Interchange, Transaction, write_interchange
from revcycle.x12.segments import seg
from tests import factories as f
from tests.integration.x12.test_ingest import Sent, a_277ca, a_999, a_report, send_batch

AT = datetime.datetime(2026, 3, 4, 9, 30)


@dataclass(frozen=True)
class Snapshot:
    """Everything an ingest may write, counted, and the claims' state."""

    inbound_files: int
    stored_files: int
    claim_events: int
    audit_rows: int
    claims: tuple[tuple[str, str], ...]  # (status, payer claim control number)
    batch_status: str


def snapshot(db: Session, sent: Sent) -> Snapshot:
    db.flush()
    db.expire_all()

    def count(model: type[m.Base]) -> int:
        return db.scalar(select(func.count()).select_from(model)) or 0

    claims = tuple((c.status, c.payer_claim_control_number) for c in sent.claims)
    return Snapshot(
        count(m.X12InboundFile),
        count(m.StoredFile),
        count(m.ClaimEvent),
        count(m.AuditLog),
        claims,
        sent.batch.status,
    )


@pytest.fixture
def practice(db: Session) -> m.Practice:
    return f.make_practice(db)


@pytest.fixture
def biller(db: Session, practice: m.Practice) -> Actor:
    return f.actor_for(db, f.make_user(db, practice, Role.BILLING))


@pytest.fixture
def sent(db: Session, practice: m.Practice) -> Sent:
    return send_batch(db, practice)


def refuse(db: Session, biller: Actor, sent: Sent, data: bytes, filename: str = "in.x12") -> str:
    """Ingest ``data``, expecting a refusal that changes nothing; the refusal's text."""
    before = snapshot(db, sent)
    with pytest.raises(InvalidInput) as refused:
        ingest(db, actor=biller, practice_id=sent.practice_id, filename=filename, data=data)
    assert snapshot(db, sent) == before
    assert refused.value.detail.startswith(f"{filename}: ")
    return refused.value.detail


def apply(db: Session, biller: Actor, sent: Sent, data: bytes, filename: str = "in.x12") -> IngestResult:
    return ingest(db, actor=biller, practice_id=sent.practice_id, filename=filename, data=data)


def position_of(data: bytes, marker: bytes) -> int:
    """The 1-based position of the segment that starts with ``marker`` (after a "~")."""
    return data[: data.index(b"~" + marker) + 1].count(b"~") + 1


def a_999_of(sent: Sent) -> bytes:
    return a_999(sent)


def a_277ca_of(sent: Sent) -> bytes:
    return a_277ca(*(a_report(claim.number, "A2", icn=f"ICN{n}") for n, claim in enumerate(sent.claims)))


def other_set(set_id: str, functional_id: str, version: str, *body: tuple[str, ...]) -> bytes:
    """A file holding one transaction set of a kind we do not ingest."""
    group = FunctionalGroup(
        functional_id,
        "CLEARHOUSE",
        "RIVERBEND",
        AT.date(),
        AT.time(),
        "55",
        version,
        [Transaction(set_id, "0001", "", [seg(segment_id, *elements) for segment_id, *elements in body])],
    )
    interchange = Interchange("ZZ", "CLEARHOUSE", "ZZ", "RIVERBEND", AT.date(), AT.time(), "000000055")
    interchange.groups = [group]
    return write_interchange(interchange).encode()


# ----------------------------------------------------------------------------- broken files


def test_a_file_cut_in_the_middle_of_a_segment(db: Session, biller: Actor, sent: Sent) -> None:
    data = a_999_of(sent)
    cut = data[: data.index(b"~IK5*") + 4]  # "IK5" without its elements or terminator

    detail = refuse(db, biller, sent, cut, "cut.999")

    assert f"segment {position_of(data, b'IK5*')} (IK5): no segment terminator '~'" in detail
    assert "truncated" in detail


@pytest.mark.parametrize(("before", "opened"), [(b"SE*", "3 (ST)"), (b"GE*", "2 (GS)"), (b"IEA*", "1 (ISA)")])
def test_a_file_cut_after_a_whole_segment(
    db: Session, biller: Actor, sent: Sent, before: bytes, opened: str
) -> None:
    data = a_277ca_of(sent)
    cut = data[: data.index(b"~" + before) + 1]

    detail = refuse(db, biller, sent, cut, "cut.277")

    assert f"segment {opened}: the file ends after segment {cut.count(b'~')} without closing" in detail
    assert "truncated" in detail


def test_an_isa_shorter_than_106_characters(db: Session, biller: Actor, sent: Sent) -> None:
    detail = refuse(db, biller, sent, a_999_of(sent)[:100])

    assert "segment 1 (ISA): the ISA header is 100 characters, shorter than its fixed 106" in detail


def test_a_component_separator_equal_to_the_element_separator(db: Session, biller: Actor, sent: Sent) -> None:
    data = a_999_of(sent)

    detail = refuse(db, biller, sent, data[:104] + b"*" + data[105:])

    assert "segment 1 (ISA), ISA16: wrong or inconsistent delimiters: the component separator '*'" in detail


def test_a_segment_terminator_that_changes_mid_file(db: Session, biller: Actor, sent: Sent) -> None:
    data = a_277ca_of(sent)
    at = data.index(b"~SE*")
    changed = data[:at] + data[at:].replace(b"~", b"\n")

    detail = refuse(db, biller, sent, changed)

    assert f"segment {position_of(data, b'SE*') - 1} (" in detail
    assert "wrong or inconsistent delimiters: '\\n' ends a segment before this SE" in detail
    assert "truncated" not in detail


def test_the_repetition_separator_inside_an_element(db: Session, biller: Actor, sent: Sent) -> None:
    data = a_277ca_of(sent).replace(b"REF*1K*ICN0~", b"REF*1K*ICN0^ICN9~", 1)

    detail = refuse(db, biller, sent, data)

    assert f"segment {position_of(data, b'REF*1K*ICN0^')} (REF), REF02: the repetition separator" in detail


@pytest.mark.parametrize(
    ("make", "old", "new", "named"),
    [
        (a_277ca_of, b"~SE*", b"~SE*1", "(SE), SE01: the number of segments from ST to SE is"),
        (
            a_999_of,
            b"~GE*1*",
            b"~GE*3*",
            "(GE), GE01: the number of transaction sets in the group is 1, not '3'",
        ),
        (
            a_999_of,
            b"~IEA*1*",
            b"~IEA*2*",
            "(IEA), IEA01: the number of functional groups in the interchange is 1",
        ),
        (
            a_999_of,
            b"~SE*8*0001~",
            b"~SE*8*0009~",
            "(SE), SE02: control number '0009' differs from ST02 '0001'",
        ),
        (a_277ca_of, b"~GE*1*77~", b"~GE*1*78~", "(GE), GE02: control number '78' differs from GS06 '77'"),
        (
            a_277ca_of,
            b"~IEA*1*000000077",
            b"~IEA*1*000000076",
            "(IEA), IEA02: control number '000000076' differs",
        ),
    ],
)
def test_counts_and_control_numbers_that_do_not_match(
    db: Session, biller: Actor, sent: Sent, make: object, old: bytes, new: bytes, named: str
) -> None:
    data = make(sent)  # type: ignore[operator]
    assert old in data
    changed = data.replace(old, new, 1)

    detail = refuse(db, biller, sent, changed)

    assert f"segment {position_of(changed, new[1:])} {named}" in detail


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"", "the file is empty"),
        (b"\r\n  \n", "the file is empty"),
        (bytes(range(256)) * 4, "segment 1 (ISA): expected an ISA interchange header"),
        (b"\x1f\x8b\x08\x00" + bytes(200), "segment 1 (ISA): expected an ISA interchange header"),
    ],
)
def test_an_empty_file_and_binary_garbage(
    db: Session, biller: Actor, sent: Sent, data: bytes, named: str
) -> None:
    assert named in refuse(db, biller, sent, data)


def test_a_file_claiming_utf8_that_is_not_is_refused_naming_the_file(
    db: Session, biller: Actor, sent: Sent
) -> None:
    assert "the file claims UTF-8 but byte 0 is not UTF-8" in refuse(
        db, biller, sent, b"\xef\xbb\xbf\xff\xfe"
    )


# ----------------------------------------------------------------------------- files we do not take


def test_an_unknown_transaction_set_is_refused_by_name(db: Session, biller: Actor, sent: Sent) -> None:
    data = other_set("850", "PO", "005010", ("BEG", "00", "SA", "PO-1", None, "20260304"))

    detail = refuse(db, biller, sent, data, "order.850")

    assert "segment 3 (ST), ST01: transaction set 850 is not one we receive" in detail
    assert "only 999, 277CA, 277, 271 and 835 files are ingested" in detail


def test_a_997_is_not_a_999(db: Session, biller: Actor, sent: Sent) -> None:
    data = other_set(
        "997",
        "FA",
        "004010",
        ("AK1", "HC", "7"),
        ("AK2", "837", "0001"),
        ("AK5", "A"),
        ("AK9", "A", "2", "2", "2"),
    )

    detail = refuse(db, biller, sent, data, "ack.997")

    assert "ST01: a 997 acknowledges 4010 files; 5010 claims are answered by a 999" in detail
    assert "only 999, 277CA, 277, 271 and 835 files are ingested" in detail


def test_an_837_is_what_we_send_not_what_we_ingest(db: Session, biller: Actor, sent: Sent) -> None:
    detail = refuse(db, biller, sent, sent.text.encode(), "batch.837")

    assert "segment 3 (ST), ST01: an 837 is a claim file we send, not one we receive" in detail
    assert "only 999, 277CA, 277, 271 and 835 files are ingested" in detail


def test_a_file_mixing_a_999_and_a_277ca_is_refused(db: Session, biller: Actor, sent: Sent) -> None:
    detail = refuse(db, biller, sent, a_999_of(sent) + a_277ca_of(sent))

    assert "one file holds one kind of transaction set, not ['277CA', '999']" in detail


# ----------------------------------------------------------------------------- 999s not for us


def test_a_999_for_a_batch_we_never_sent(
    db: Session, practice: m.Practice, biller: Actor, sent: Sent
) -> None:
    other = send_batch(db, f.make_practice(db), group=8)  # another practice's batch

    detail = refuse(db, biller, sent, a_999(other))

    assert "the 999 acknowledges group 8" in detail
    assert "which this practice never sent; nothing was applied" in detail
    assert {c.status for c in other.claims} == {"submitted"}


def test_a_999_for_our_group_number_from_someone_we_did_not_send_it_to(
    db: Session, biller: Actor, sent: Sent
) -> None:
    data = a_999_of(sent).replace(b"CLEARHOUSE     ", b"STRANGER       ", 1)

    detail = refuse(db, biller, sent, data)

    # the group we would have sent: from us to the stranger
    assert "acknowledges group 7 from RIVERBEND to STRANGER, which this practice never sent" in detail


def a_999_naming_a_set_we_did_not_send(db: Session, sent: Sent) -> bytes:
    del db
    return a_999_of(sent).replace(b"AK2*837*0002*", b"AK2*837*0009*", 1)


def a_999_whose_second_interchange_is_not_ours(db: Session, sent: Sent) -> bytes:
    other = send_batch(db, f.make_practice(db), group=8)
    return a_999_of(sent) + a_999(other).replace(b"000000101", b"000000102")


REFUSED_AFTER_APPLYING = [
    pytest.param(
        a_999_naming_a_set_we_did_not_send,
        "AK2 names transaction set 0009, which group 7 did not hold; nothing was applied",
        id="AK2 of a set we did not send",
    ),
    pytest.param(
        a_999_whose_second_interchange_is_not_ours,
        "the 999 acknowledges group 8 from RIVERBEND to CLEARHOUSE, which this practice never sent",
        id="second interchange not ours",
    ),
]


@pytest.mark.parametrize(("make", "named"), REFUSED_AFTER_APPLYING)
def test_a_999_refused_part_way_leaves_nothing_behind_its_callers_savepoint(
    db: Session, biller: Actor, sent: Sent, make: object, named: str
) -> None:
    data = make(db, sent)  # type: ignore[operator]
    before = snapshot(db, sent)

    with pytest.raises(InvalidInput) as refused, db.begin_nested():  # as the API, the page and the CLI
        apply(db, biller, sent, data)

    assert named in refused.value.detail
    assert snapshot(db, sent) == before


@pytest.mark.parametrize(("make", "named"), REFUSED_AFTER_APPLYING)
def test_a_999_refused_part_way_writes_nothing_even_without_a_savepoint(
    db: Session, biller: Actor, sent: Sent, make: object, named: str
) -> None:
    assert named in refuse(db, biller, sent, make(db, sent))  # type: ignore[operator]


# ----------------------------------------------------------------------------- twice, and unknown claims


@pytest.mark.parametrize("make", [a_999_of, a_277ca_of], ids=["999", "277CA"])
def test_the_same_acknowledgment_twice_changes_nothing_the_second_time_and_says_so(
    db: Session, biller: Actor, sent: Sent, make: object
) -> None:
    data = make(sent)  # type: ignore[operator]
    first = apply(db, biller, sent, data, "first.x12")
    after_first = snapshot(db, sent)
    assert first.status == "applied"
    assert after_first.claim_events > 0

    again = apply(db, biller, sent, data, "again.x12")

    assert again.status == "duplicate"
    assert (again.inbound_file_id, again.kind, again.summary) == (
        first.inbound_file_id,
        first.kind,
        first.summary,
    )
    assert snapshot(db, sent) == after_first


def test_a_277ca_whose_claims_we_do_not_know_lists_them_and_is_applied(
    db: Session, biller: Actor, sent: Sent
) -> None:
    before = snapshot(db, sent)
    data = a_277ca(a_report("NOT-OURS-1", "A2", icn="X1"), a_report("NOT-OURS-2", "A7", code="562"))

    result = apply(db, biller, sent, data, "strangers.277")

    assert result.status == "applied"
    assert [row["claim"] for row in result.summary["unmatched"]] == ["NOT-OURS-1", "NOT-OURS-2"]
    assert all(row["segment"].isdigit() for row in result.summary["unmatched"])
    after = snapshot(db, sent)
    assert (after.claims, after.claim_events) == (before.claims, before.claim_events)
    assert (after.inbound_files, after.audit_rows) == (before.inbound_files + 1, before.audit_rows + 1)
