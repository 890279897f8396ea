"""837P: the writer's segments, our own reader's round trip, and the writer-side checks."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from revcycle.domain.npi import make_npi
from revcycle.x12.check837 import ClaimSetRefused, check_claim_set, claim_set_problems
from revcycle.x12.claim837 import (
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimSet,
    LineAdjudication,
    OtherCoverage,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.errors import X12Error
from revcycle.x12.read837 import read_837
from revcycle.x12.write837 import Routing, claim_set_segments, format_cents, write_837
from tests.unit.x12.samples import GUIDE_837P, needs_samples

ROUTING = Routing("ZZ", "CALMMINDS", "ZZ", "CLEARINGHOUSE", usage="T")
OFFICE = Address("12 Main St", "Springfield", "IL", "627011234", line2="Suite 200")
HOME = Address("4 Elm Rd", "Springfield", "IL", "62702")
BILLING = BillingProvider("Calm Minds Therapy", make_npi("123456789"), "371234567", "101YM0800X", OFFICE)
THERAPIST = Provider("Rivera", "Ana", make_npi("198765432"), "101YM0800X")
SUPERVISOR = Provider("Okafor", "Ben", make_npi("154321987"))
PAYER = Payer("Aetna", "60054")
PRIMARY = Payer("Blue Cross", "BCBS1")
SUBSCRIBER = Subscriber(
    "Doe",
    "Jane",
    "W123456789",
    group_number="GRP7",
    address=HOME,
    birth_date=datetime.date(1985, 2, 3),
    sex="F",
)
PARENT = Subscriber("Doe", "John", "W987654321", relationship="")
CHILD = Patient("Doe", "Tim", "19", datetime.date(2012, 3, 4), "M", HOME)
SEEN_ON = datetime.date(2024, 5, 1)


def a_line(code: str = "90837", charge_cents: int = 15000, **changes: object) -> ServiceLine:
    line = ServiceLine(code, charge_cents, 1, SEEN_ON, (1,))
    return replace(line, **changes)  # type: ignore[arg-type]


def a_claim(number: str = "C0001", **changes: object) -> Claim:
    claim = Claim(
        billing_provider=BILLING,
        subscriber=SUBSCRIBER,
        payer=PAYER,
        patient_control_number=number,
        total_charge_cents=15000,
        place_of_service="11",
        diagnoses=("F4310",),
        lines=(a_line(),),
    )
    claim = replace(claim, **changes)  # type: ignore[arg-type]
    if "total_charge_cents" not in changes:
        claim = replace(claim, total_charge_cents=sum(line.charge_cents for line in claim.lines))
    return claim


def a_claim_set(*claims: Claim) -> ClaimSet:
    return ClaimSet(
        submitter=Submitter("Calm Minds Therapy", "CALMMINDS", "Pat Biller", "2175551234"),
        receiver=Receiver("Clearinghouse", "CLEARINGHOUSE"),
        reference="B000123",
        created_at=datetime.datetime(2024, 6, 1, 9, 30),
        claims=claims or (a_claim(),),
    )


def a_secondary_claim(number: str = "C0002") -> Claim:
    """Secondary to Blue Cross, which paid 90 of 150 (CO-45 40, PR-2 20)."""
    adjustments = (Adjustment("CO", "45", 4000), Adjustment("PR", "2", 2000))
    adjudication = LineAdjudication("BCBS1", 9000, "90837", 1, datetime.date(2024, 5, 20), (), adjustments)
    return a_claim(
        number,
        subscriber=replace(SUBSCRIBER, responsibility="S"),
        lines=(a_line(adjudications=(adjudication,)),),
        other_coverages=(
            OtherCoverage(
                "P",
                "18",
                "Doe",
                "Jane",
                "XYZ111",
                PRIMARY.name,
                PRIMARY.id,
                paid_cents=9000,
                adjustments=adjustments,
            ),
        ),
    )


def write(*claims: Claim) -> str:
    return write_837(
        [a_claim_set(*claims)], routing=ROUTING, interchange_control_number=7, group_control_number=7
    )


def lines_of(text: str) -> list[str]:
    return text.split("~")


# ----------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("cents", "text"),
    [(15000, "150"), (15050, "150.5"), (15025, "150.25"), (5, "0.05"), (0, "0"), (-1250, "-12.5")],
)
def test_money_is_written_as_an_x12_decimal_without_trailing_zeros(cents: int, text: str) -> None:
    assert format_cents(cents) == text


def test_a_claim_for_the_subscriber_has_no_patient_loop() -> None:
    text = write(a_claim())
    segments = lines_of(text)
    assert "HL*1**20*1" in segments
    assert "HL*2*1*22*0" in segments
    assert "SBR*P*18*GRP7******CI" in segments
    assert not any(s.startswith("PAT") for s in segments)
    assert "CLM*C0001*150***11:B:1*Y*A*Y*Y" in segments
    assert "HI*ABK:F4310" in segments
    assert "SV1*HC:90837*150*UN*1***1" in segments
    assert "DTP*472*D8*20240501" in segments


def test_a_dependent_gets_the_patient_loop_with_pat01() -> None:
    segments = lines_of(write(a_claim(subscriber=PARENT, patient=CHILD)))
    assert "HL*2*1*22*1" in segments
    assert "SBR*P********CI" in segments
    assert "HL*3*2*23*0" in segments
    assert "PAT*19" in segments
    assert "NM1*QC*1*Doe*Tim" in segments
    assert "DMG*D8*20120304*M" in segments


def test_claims_share_a_level_while_their_parties_stay_the_same() -> None:
    claims = [a_claim("A"), a_claim("B"), a_claim("C", subscriber=PARENT, patient=CHILD), a_claim("D")]
    segments = lines_of(write(*claims))
    hl = [s for s in segments if s.startswith("HL")]
    assert hl == ["HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*1", "HL*4*3*23*0", "HL*5*1*22*0"]


def test_every_option_is_written() -> None:
    claim = a_claim(
        frequency="7",
        payer_claim_control_number="PAYERCCN1",
        prior_authorization="AUTH55",
        rendering=THERAPIST,
        supervising=SUPERVISOR,
        service_facility=ServiceFacility("Calm Minds East", HOME, make_npi("176543210")),
        diagnoses=tuple(f"F{n:02d}1" for n in range(10, 22)),
        lines=(
            a_line(
                modifiers=("95", "HO", "GT", "59"), diagnosis_pointers=(1, 2, 3, 12), place_of_service="02"
            ),
        ),
    )
    billing = replace(BILLING, pay_to=Address("PO Box 9", "Springfield", "IL", "627010009"))
    segments = lines_of(write(replace(claim, billing_provider=billing)))
    assert "CLM*C0001*150***11:B:7*Y*A*Y*Y" in segments
    assert "REF*G1*AUTH55" in segments
    assert "REF*F8*PAYERCCN1" in segments
    assert "NM1*87*2" in segments
    assert f"NM1*82*1*Rivera*Ana****XX*{THERAPIST.npi}" in segments
    assert "PRV*PE*PXC*101YM0800X" in segments
    assert f"NM1*DQ*1*Okafor*Ben****XX*{SUPERVISOR.npi}" in segments
    assert any(s.startswith("NM1*77*2*Calm Minds East") for s in segments)
    assert "SV1*HC:90837:95:HO:GT:59*150*UN*1*02**1:2:3:12" in segments
    hi = next(s for s in segments if s.startswith("HI"))
    assert hi.count("ABF:") == 11
    assert hi.startswith("HI*ABK:F101*")


def test_a_secondary_claim_carries_the_primarys_adjudication() -> None:
    segments = lines_of(write(a_secondary_claim()))
    assert "SBR*S*18*GRP7******CI" in segments
    assert "SBR*P*18*******CI" in segments
    assert "CAS*CO*45*40" in segments
    assert "CAS*PR*2*20" in segments
    assert "AMT*D*90" in segments
    assert "OI***Y***Y" in segments
    assert "NM1*PR*2*Blue Cross*****PI*BCBS1" in segments
    assert "SVD*BCBS1*90*HC:90837**1" in segments
    assert "DTP*573*D8*20240520" in segments


def test_the_envelope_counts_and_the_file_reads_back_as_x12() -> None:
    text = write(a_claim("A"), a_secondary_claim("B"))
    [interchange] = read_interchanges(text)
    [group] = interchange.groups
    assert (group.functional_id, group.version) == ("HC", "005010X222A1")
    assert interchange.control_number == "000000007"
    assert interchange.usage == "T"


def test_several_claim_sets_are_several_transactions() -> None:
    sets = [a_claim_set(a_claim("A")), a_claim_set(a_claim("B"))]
    text = write_837(sets, routing=ROUTING, interchange_control_number=8, group_control_number=8)
    [interchange] = read_interchanges(text)
    assert [t.control_number for t in interchange.groups[0].transactions] == ["0001", "0002"]
    assert read_837(text) == sets


# ----------------------------------------------------------------------------- reading back


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param([a_claim()], id="subscriber"),
        pytest.param([a_claim(subscriber=PARENT, patient=CHILD)], id="dependent"),
        pytest.param([a_secondary_claim()], id="secondary"),
        pytest.param(
            [
                a_claim("A"),
                a_claim("B", payer=PRIMARY),
                a_claim("C", subscriber=PARENT, patient=CHILD),
                a_claim("D"),
            ],
            id="mixed",
        ),
        pytest.param(
            [
                a_claim(
                    frequency="8",
                    payer_claim_control_number="X1",
                    rendering=THERAPIST,
                    supervising=SUPERVISOR,
                    service_facility=ServiceFacility("Annex", HOME),
                    diagnoses=("F4310", "F411", "Z630"),
                    lines=(
                        a_line(modifiers=("HO",), diagnosis_pointers=(2, 1)),
                        a_line("90785", 2525, units=2, diagnosis_pointers=(3,), place_of_service="02"),
                    ),
                )
            ],
            id="options",
        ),
    ],
)
def test_our_reader_reads_back_the_claims_written(claims: list[Claim]) -> None:
    claim_set = a_claim_set(*claims)
    assert read_837(write(*claims)) == [claim_set]


def test_the_reader_accepts_line_breaks() -> None:
    text = write_837(
        [a_claim_set()],
        routing=ROUTING,
        interchange_control_number=1,
        group_control_number=1,
        line_breaks=True,
    )
    assert read_837(text) == [a_claim_set()]


def test_the_reader_names_a_bad_amount_by_position_and_element() -> None:
    text = write(a_claim()).replace("SV1*HC:90837*150*", "SV1*HC:90837*15X*")
    with pytest.raises(X12Error) as caught:
        read_837(text)
    assert caught.value.segment_id == "SV1"
    assert caught.value.element == "SV102"
    assert caught.value.position is not None


def test_the_reader_refuses_sub_cent_amounts() -> None:
    text = write(a_claim()).replace("CLM*C0001*150*", "CLM*C0001*150.001*")
    with pytest.raises(X12Error, match="CLM02"):
        read_837(text)


def test_the_reader_names_the_loop_a_segment_is_missing_from() -> None:
    text = write(a_secondary_claim()).replace("NM1*PR*2*Blue Cross*****PI*BCBS1~", "DTP*573*D8*20240520~")
    with pytest.raises(X12Error, match="lacks payer_name, payer_id"):
        read_837(text)


def test_the_reader_refuses_what_it_cannot_represent() -> None:
    text = write(a_claim()).replace("HI*ABK:F4310~", "PWK*OZ*BM~")
    with pytest.raises(X12Error, match="does not know the segment") as caught:
        read_837(text)
    assert caught.value.segment_id == "PWK"


@needs_samples
@pytest.mark.parametrize(
    ("name", "claims", "lines"),
    [("demo.example1.837", 1, 4), ("demo.cob.example3.B.837", 1, 3), ("demo.autoaccident.837", 1, 2)],
)
def test_the_reader_reads_the_guides_837p_examples(name: str, claims: int, lines: int) -> None:
    [claim_set] = read_837((GUIDE_837P / name).read_text(encoding="utf-8-sig"))
    assert len(claim_set.claims) == claims
    assert sum(len(claim.lines) for claim in claim_set.claims) == lines
    assert all(
        claim.total_charge_cents == sum(line.charge_cents for line in claim.lines)
        for claim in claim_set.claims
    )


# ----------------------------------------------------------------------------- writer-side checks


def refused(claim: Claim) -> ClaimSetRefused:
    with pytest.raises(ClaimSetRefused) as caught:
        claim_set_segments(a_claim_set(claim))
    return caught.value


def test_a_good_claim_set_passes_the_checks() -> None:
    assert claim_set_problems(a_claim_set(a_claim(), a_secondary_claim())) == []
    check_claim_set(a_claim_set())


def test_an_npi_failing_its_check_digit_is_refused() -> None:
    bad = BILLING.npi[:9] + str((int(BILLING.npi[9]) + 1) % 10)
    error = refused(a_claim(billing_provider=replace(BILLING, npi=bad)))
    assert error.element == "NM109"
    assert "billing provider NPI" in str(error)
    assert "'C0001'" in str(error)
    error = refused(a_claim(rendering=replace(THERAPIST, npi="1234567890")))
    assert "rendering provider NPI '1234567890'" in str(error)


def test_icd10_codes_under_an_icd9_qualifier_are_refused() -> None:
    error = refused(a_claim(diagnosis_qualifier="BK"))
    assert error.element == "HI01-2"
    assert "ICD-10 code 'F4310' under the ICD-9 qualifier BK" in str(error)


def test_a_diagnosis_pointer_out_of_range_is_refused() -> None:
    error = refused(a_claim(lines=(a_line(diagnosis_pointers=(1, 2)),)))
    assert error.element == "SV107"
    assert "line 1: diagnosis pointer 2 is out of range (1 to 1)" in str(error)


def test_a_total_different_from_the_lines_is_refused() -> None:
    error = refused(a_claim(total_charge_cents=14000))
    assert error.element == "CLM02"
    assert "claim total 140.00 differs from the lines' 150.00" in str(error)


def test_a_secondary_claim_whose_primary_adjudication_does_not_balance_is_refused() -> None:
    claim = a_secondary_claim()
    line = claim.lines[0]
    short = replace(line.adjudications[0], paid_cents=8000)  # 80 paid + 60 adjusted is not 150
    error = refused(replace(claim, lines=(replace(line, adjudications=(short,)),)))
    assert (error.segment_id, error.element) == ("SVD", "SVD02")
    assert "paid 80.00 and adjusted 60.00, which does not balance to the charge 150.00" in str(error)

    coverage = replace(claim.other_coverages[0], paid_cents=10000)
    error = refused(replace(claim, other_coverages=(coverage,)))
    assert (error.segment_id, error.element) == ("AMT", "AMT02")
    assert "paid 100.00 on the claim (AMT*D) but 90.00 on its lines (SVD02)" in str(error)


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_a_replacement_or_void_without_the_payers_claim_number_is_refused(frequency: str) -> None:
    error = refused(a_claim(frequency=frequency))
    assert error.segment_id == "REF"
    assert "REF*F8" in str(error)


def test_sbr02_must_agree_with_the_patient_loop() -> None:
    assert refused(a_claim(patient=CHILD)).element == "SBR02"
    assert refused(a_claim(subscriber=PARENT)).element == "SBR02"


def test_a_subscriber_who_is_the_patient_needs_address_and_demographics() -> None:
    assert refused(a_claim(subscriber=replace(SUBSCRIBER, address=None))).element == "N301"
    assert refused(a_claim(subscriber=replace(SUBSCRIBER, birth_date=None))).element == "DMG02"


def test_a_patient_control_number_over_17_characters_is_refused() -> None:
    error = refused(a_claim("C" * 18))
    assert error.element == "CLM01"
    assert "18 characters, at most 17" in str(error)


def test_every_problem_is_reported_at_once() -> None:
    error = refused(a_claim("C" * 18, total_charge_cents=1, frequency="7"))
    assert [p.element for p in error.problems] == ["CLM01", "REF02", "CLM02"]
    assert "and 2 more" in str(error)


@pytest.mark.parametrize(
    ("changes", "element"),
    [
        ({"diagnoses": tuple(f"F{n:02d}1" for n in range(10, 23))}, "HI01-2"),
        ({"diagnoses": ("F43.10",)}, "HI01-2"),
        ({"lines": (a_line(modifiers=("a", "b", "c", "d", "e")),)}, "SV101-3"),
        ({"lines": (a_line(diagnosis_pointers=(1, 1, 1, 1, 1)),)}, "SV107-1"),
        ({"lines": tuple(a_line(charge_cents=100) for _ in range(51))}, "LX01"),
        ({"frequency": "2"}, "CLM05-3"),
    ],
)
def test_other_shapes_a_payer_rejects_are_refused(changes: dict[str, object], element: str) -> None:
    assert element in [p.element for p in refused(a_claim(**changes)).problems]


def test_more_than_100_claims_for_one_subscriber_open_another_subscriber_level() -> None:
    from tests.unit.x12.test_pyx12_judge import judge

    claims = [a_claim(f"C{n:04d}") for n in range(1, 102)]
    dependents = [a_claim(f"D{n:04d}", subscriber=PARENT, patient=CHILD) for n in range(1, 102)]
    text = write(*claims, *dependents)

    levels = [line.split("*")[3] for line in lines_of(text) if line.startswith("HL*")]
    assert levels == ["20", "22", "22", "22", "23", "22", "23"]
    assert judge(text) == []
    assert read_837(text)[0].claims == (*claims, *dependents)


def test_a_line_control_number_is_sent_as_ref_6r_for_the_835_to_echo() -> None:
    claim = a_claim(lines=(a_line(control_number="C0001-1"), a_line("90785", 2500, control_number="C0001-2")))
    text = write(claim)

    segments = lines_of(text)
    first = segments.index("DTP*472*D8*20240501")
    assert segments[first + 1] == "REF*6R*C0001-1"
    assert read_837(text)[0].claims == (claim,)
    assert refused(a_claim(lines=(a_line(control_number="X" * 51),))).element == "REF02"
