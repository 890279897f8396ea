"""276 claim status inquiries: written, read back by us and by x12sdk."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.x12.claim277 import Envelope, Party
from revcycle.x12.errors import X12Error
from revcycle.x12.inquiry276 import ClaimInquiry, StatusInquiry, read_276, write_276
from tests.unit.x12.samples import SAMPLES, needs_samples

from .test_claim277 import x12sdk_models

PAYER = Party("PR", "BLUE RIVER HEALTH", "87726", "PI")
US = Party("41", "RIVERBEND COUNSELING GROUP", "RBCG01", "46")
PROVIDER = Party("1P", "RIVERBEND COUNSELING GROUP", "1234567893", "XX")
JANE = Party("IL", "DOE", "W123456789", "MI", first_name="JANE", kind="1")
SAM = Party("QC", "DOE", first_name="SAM", kind="1")
ENVELOPE = Envelope(
    sender_qualifier="ZZ",
    sender_id="RIVERBEND",
    receiver_qualifier="ZZ",
    receiver_id="BLUERIVER",
    interchange_control_number="000000501",
    group_control_number="501",
    sent_at=datetime.datetime(2026, 4, 1, 7, 0),
)
ASKED_AT = datetime.datetime(2026, 4, 1, 7, 0)


def inquiry(pcn: str, *, patient: Party | None = None, icn: str = "", **more: object) -> ClaimInquiry:
    return ClaimInquiry(
        payer=PAYER,
        information_receiver=US,
        provider=PROVIDER,
        subscriber=JANE,
        patient=patient,
        trace_number=f"T-{pcn}",
        patient_control_number=pcn,
        payer_claim_control_number=icn,
        charge_cents=15000,
        service_from=datetime.date(2026, 2, 10),
        birth_date=datetime.date(1988, 5, 4) if patient is None else datetime.date(2014, 9, 1),
        sex="F" if patient is None else "M",
        **more,  # type: ignore[arg-type]
    )


def test_a_276_we_write_reads_back_and_is_read_by_x12sdk() -> None:
    batch = StatusInquiry(
        reference="INQ-501",
        created_at=ASKED_AT,
        claims=(
            inquiry("RB-1001", icn="2026062000123"),
            inquiry("RB-1002", service_to=datetime.date(2026, 2, 12)),
            inquiry("RB-1003", patient=SAM),
        ),
    )

    text = write_276([batch], ENVELOPE, line_breaks=True)

    (read,) = read_276(text)
    assert read == batch
    assert "REF*1K*2026062000123~" in text
    assert "REF*EJ*RB-1001~" in text
    assert "AMT*T3*150~" in text
    assert "DTP*472*RD8*20260210-20260212~" in text
    assert x12sdk_models(text) == ["HealthCareClaimsStatusRequest"]


names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)
ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=2, max_size=17)


@st.composite
def inquiries(draw: st.DrawFn) -> ClaimInquiry:
    start = draw(st.dates(datetime.date(2024, 1, 1), datetime.date(2026, 3, 1)))
    return ClaimInquiry(
        payer=Party("PR", draw(names), draw(ids), "PI"),
        information_receiver=US,
        provider=PROVIDER,
        subscriber=Party("IL", draw(names), draw(ids), "MI", first_name=draw(names), kind="1"),
        patient=draw(st.none() | st.builds(lambda n: Party("QC", n, first_name="KID", kind="1"), names)),
        trace_number=draw(ids),
        patient_control_number=draw(ids),
        payer_claim_control_number=draw(st.just("") | ids),
        charge_cents=draw(st.integers(1, 10_000_000)),
        service_from=start,
        service_to=draw(st.none() | st.just(start + datetime.timedelta(days=3))),
        birth_date=draw(st.none() | st.dates(datetime.date(1930, 1, 1), datetime.date(2020, 1, 1))),
        sex=draw(st.sampled_from(["", "F", "M"])),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(inquiries(), min_size=1, max_size=6))
def test_any_batch_of_inquiries_round_trips_and_x12sdk_reads_it(claims: list[ClaimInquiry]) -> None:
    # a one-day range reads back as one day; a missing sex needs no birth date and vice versa
    claims = [c if c.birth_date or not c.sex else ClaimInquiry(**{**c.__dict__, "sex": ""}) for c in claims]
    dependent_born = datetime.date(2015, 1, 1)
    claims = [
        c if c.patient is None or c.birth_date else replace(c, birth_date=dependent_born) for c in claims
    ]
    batch = StatusInquiry("INQ", ASKED_AT, tuple(claims))

    text = write_276([batch], ENVELOPE)

    (read,) = read_276(text)
    assert read == batch
    assert x12sdk_models(text) == ["HealthCareClaimsStatusRequest"]


def test_an_inquiry_without_a_patient_control_number_is_refused() -> None:
    text = write_276([StatusInquiry("INQ", ASKED_AT, (inquiry("RB-1"),))], ENVELOPE)

    with pytest.raises(X12Error) as caught:
        read_276(text.replace("REF*EJ*RB-1~", "REF*XZ*RB-1~"))

    assert caught.value.segment_id == "TRN"
    assert "REF*EJ" in str(caught.value)


def test_a_dependent_without_a_birth_date_is_refused() -> None:
    claim = replace(inquiry("RB-7", patient=SAM), birth_date=None)

    with pytest.raises(X12Error, match="RB-7: a dependent's birth date is required"):
        write_276([StatusInquiry("INQ", ASKED_AT, (claim,))], ENVELOPE)


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(X12Error, match="at least one claim"):
        write_276([StatusInquiry("INQ", ASKED_AT, ())], ENVELOPE)


@needs_samples
def test_public_276_samples_read() -> None:
    path = SAMPLES / "LinuxForHealth-x12/src/tests/resources/276_005010X212/claim-level-status.276"
    (batch,) = read_276(path.read_text())

    assert [c.patient_control_number for c in batch.claims] == ["SM123456", "J0234567", "MA345678"]
    assert batch.claims[0].charge_cents == 851388
    assert batch.claims[0].service_to == datetime.date(2005, 9, 6)
    assert batch.claims[2].patient is not None
    assert batch.claims[2].patient.first_name == "JOSEPH"
    assert batch.claims[2].birth_date == datetime.date(1995, 11, 1)
