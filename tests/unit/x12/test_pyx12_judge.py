"""pyx12 judges the 837P files we write: every option, and 200 generated claim sets.

pyx12 is an independent validator of X12 files against the implementation guide's maps. It
runs in-process through :mod:`revcycle.services.x12_judge` (``x12valid``'s exit code is 1 even
on success), which reads its error tree; ``judge`` lists those errors as text. Each generated
file must also read back, with our own reader, into the claim set it was written from.
"""

from __future__ import annotations

import datetime
import logging
import sys
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.domain.npi import make_npi
from revcycle.services.x12_judge import STALE_IN_PYX12, Pyx12Verdict, pyx12_available, pyx12_verdict
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
from revcycle.x12.eligibility import EligibilityInquiry, EligibilityRequest, write_270
from revcycle.x12.read837 import read_837
from revcycle.x12.write837 import Routing, write_837
from tests.unit.x12.samples import GUIDE_837P, needs_samples
from tests.unit.x12.test_claim837 import (
    BILLING,
    CHILD,
    HOME,
    PARENT,
    SUPERVISOR,
    THERAPIST,
    a_claim,
    a_claim_set,
    a_line,
    a_secondary_claim,
)
from tests.unit.x12.test_eligibility import ENVELOPE, JANE, PAYER, PROVIDER, VISIT

ROUTING = Routing("ZZ", "CALMMINDS", "ZZ", "CLEARINGHOUSE", usage="T")


def judge(text: str, *, strict: bool = False) -> list[str]:
    """pyx12's errors for an X12 file (:func:`revcycle.services.x12_judge.pyx12_verdict`); []
    when it finds it valid. A transaction set pyx12 has no map for is listed: it was not judged.

    Unless ``strict``, complaints from pyx12's stale code lists (``STALE_IN_PYX12``) are dropped.
    """
    verdict = pyx12_verdict(text)
    assert verdict is not None, "pyx12 is a test dependency: pip install -e '.[dev]'"
    errors = [*verdict.errors, *verdict.stale] if strict else verdict.errors
    return [*verdict.no_map, *(str(error) for error in errors)]


def write(*claim_sets: ClaimSet) -> str:
    return write_837(
        list(claim_sets), routing=ROUTING, interchange_control_number=42, group_control_number=42
    )


# ----------------------------------------------------------------------------- the judge itself


def test_the_judge_names_what_is_wrong() -> None:
    text = write(a_claim_set())
    broken = text.replace("N4*Springfield*IL*627011234~", "", 1).replace("*150***11:B:1", "*15X***11:B:1")
    errors = judge(broken)
    assert any("N4" in error for error in errors)
    assert any("CLM02" in error for error in errors)


def test_pyx12_alone_does_not_know_place_of_service_10() -> None:
    text = write(a_claim_set(a_claim(place_of_service="10")))
    assert any(STALE_IN_PYX12[0][1] in error for error in judge(text, strict=True))
    assert judge(text) == []


def test_the_judge_strips_a_bom() -> None:
    assert judge("\ufeff" + write(a_claim_set())) == []


def test_the_verdict_places_each_error_by_segment_and_element() -> None:
    text = write(a_claim_set())
    position = text.split("~").index("CLM*C0001*150***11:B:1*Y*A*Y*Y") + 1
    verdict = pyx12_verdict(text.replace("*150***11:B:1", "*150***AA:B:1", 1))
    assert verdict is not None
    assert verdict.checked == ("837 (005010X222A1)",)
    [error] = verdict.errors
    assert (error.position, error.segment_id, error.element) == (position, "CLM", "CLM05-1")
    assert str(error).startswith(f"segment {position} (CLM), CLM05-1: (AA) is not a valid code")


def test_place_of_service_10_is_set_aside_not_counted() -> None:
    verdict = pyx12_verdict(write(a_claim_set(a_claim(place_of_service="10"))))
    assert verdict is not None
    assert verdict.ok
    assert [error.element for error in verdict.stale] == ["CLM05-1"]


def test_a_set_pyx12_has_no_map_for_is_listed_and_the_rest_still_judged() -> None:
    inquiry = eligibility_270()
    verdict = pyx12_verdict(inquiry)
    assert verdict == Pyx12Verdict(no_map=("pyx12 has no map for 270 (005010X279A1)",))
    broken = write(a_claim_set()).replace("*150***11:B:1", "*150***AA:B:1", 1)
    both = inquiry + broken
    verdict = pyx12_verdict(both)
    assert verdict is not None
    assert (verdict.checked, verdict.no_map) == (
        ("837 (005010X222A1)",),
        ("pyx12 has no map for 270 (005010X279A1)",),
    )
    [error] = verdict.errors
    # the position is the segment's in the whole file, after the 270's interchange
    assert both.split("~")[error.position - 1].startswith("CLM*C0001*150***AA:B:1")


def test_a_file_pyx12_cannot_read_gets_its_reason() -> None:
    verdict = pyx12_verdict("not an X12 file at all")
    assert verdict is not None
    assert [str(error) for error in verdict.errors] == ["the file does not look like an X12 data file"]
    truncated = pyx12_verdict(write(a_claim_set())[:400])
    assert truncated is not None
    assert not truncated.ok


class _Listen(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_nothing_pyx12_logs_reaches_our_logs() -> None:
    # pyx12 logs each error with the offending value (PHI); our handlers hang on the root
    # logger. (pytest's caplog would not do: it also listens on non-propagating loggers.)
    ours = _Listen()
    root = logging.getLogger()
    root.addHandler(ours)
    try:
        verdict = pyx12_verdict(write(a_claim_set()).replace("*150***11:B:1", "*150***AA:B:1", 1))
    finally:
        root.removeHandler(ours)
    assert verdict is not None
    assert not verdict.ok
    assert [r.getMessage() for r in ours.records if r.name.startswith("pyx12")] == []


def test_without_pyx12_there_is_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "pyx12" or name.startswith("pyx12.")]:
        monkeypatch.setitem(sys.modules, name, None)
    assert not pyx12_available()
    assert pyx12_verdict(write(a_claim_set())) is None


def eligibility_270() -> str:
    request = EligibilityRequest(
        reference="ELG-1",
        created_at=datetime.datetime(2026, 4, 1, 7, 0),
        inquiries=(EligibilityInquiry(PAYER, PROVIDER, JANE, "E-1", VISIT, originator_id="1123456789"),),
    )
    return write_270([request], ENVELOPE)


# ----------------------------------------------------------------------------- every option


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param([a_claim()], id="patient-is-subscriber"),
        pytest.param([a_claim(subscriber=PARENT, patient=CHILD)], id="patient-loop"),
        pytest.param([a_secondary_claim()], id="secondary-with-2320-2330-2430"),
        pytest.param(
            [a_claim(subscriber=replace(PARENT, responsibility="T"), patient=CHILD, other_coverages=())],
            id="tertiary",
        ),
        pytest.param([a_claim(frequency="7", payer_claim_control_number="PCCN123")], id="replacement"),
        pytest.param([a_claim(frequency="8", payer_claim_control_number="PCCN123")], id="void"),
        pytest.param([a_claim(prior_authorization="AUTH77")], id="prior-authorization"),
        pytest.param([a_claim(rendering=THERAPIST)], id="rendering"),
        pytest.param([a_claim(rendering=replace(THERAPIST, taxonomy=""))], id="rendering-no-taxonomy"),
        pytest.param([a_claim(supervising=SUPERVISOR)], id="supervising"),
        pytest.param(
            [a_claim(service_facility=ServiceFacility("Annex", HOME, make_npi("176543210")))], id="facility"
        ),
        pytest.param([a_claim(service_facility=ServiceFacility("Annex", HOME))], id="facility-no-npi"),
        pytest.param(
            [
                a_claim(
                    billing_provider=replace(
                        BILLING, pay_to=Address("PO Box 9", "Springfield", "IL", "62701")
                    )
                )
            ],
            id="pay-to",
        ),
        pytest.param(
            [a_claim(billing_provider=replace(BILLING, name="Rivera", first_name="Ana"))], id="person-billing"
        ),
        pytest.param(
            [
                a_claim(
                    diagnoses=tuple(f"F{n:02d}1" for n in range(10, 22)),
                    lines=tuple(
                        a_line(
                            modifiers=("95", "HO", "GT", "59")[: n % 5],
                            diagnosis_pointers=tuple(range(1 + n % 9, 1 + n % 9 + 1 + n % 4)),
                            place_of_service="02" if n % 3 == 0 else "",
                            charge_cents=1000 + n,
                        )
                        for n in range(50)
                    ),
                )
            ],
            id="12-diagnoses-50-lines-modifiers",
        ),
        pytest.param(
            [
                a_claim("A"),
                a_claim("B", subscriber=PARENT, patient=CHILD),
                a_secondary_claim("C"),
                a_claim("D"),
            ],
            id="several-claims",
        ),
    ],
)
def test_every_option_validates_with_pyx12(claims: list[Claim]) -> None:
    claim_set = a_claim_set(*claims)
    text = write(claim_set)
    assert judge(text) == []
    assert read_837(text) == [claim_set]


def test_several_transactions_in_one_file_validate() -> None:
    assert judge(write(a_claim_set(a_claim("A")), a_claim_set(a_secondary_claim("B")))) == []


# ----------------------------------------------------------------------------- generated claim sets

NAMES = st.from_regex(r"[A-Z][a-z]{1,11}( [A-Z][a-z]{1,8})?", fullmatch=True)
IDS = st.from_regex(r"[A-Z0-9]{2,15}", fullmatch=True)
NPIS = st.from_regex(r"[12][0-9]{8}", fullmatch=True).map(make_npi)
TAXONOMIES = st.sampled_from(["101YM0800X", "103T00000X", "1041C0700X", "106H00000X", "2084P0800X"])
PLACES = ["11", "02", "10", "12", "53"]
PROCEDURES = [
    "90791",
    "90832",
    "90834",
    "90837",
    "90846",
    "90847",
    "90853",
    "90785",
    "H0031",
    "H2019",
    "96130",
]
MODIFIERS = ["95", "GT", "HO", "HN", "59", "25", "AH", "AJ", "U4", "93"]
DIAGNOSES = [
    "F4310",
    "F411",
    "F329",
    "F332",
    "F909",
    "F4323",
    "Z630",
    "F840",
    "F4312",
    "F331",
    "F419",
    "F430",
]
DIAGNOSES += ["F3481", "F603", "F4321", "F17210"]
GROUPS = ["CO", "PR", "OA", "PI"]
REASONS = ["1", "2", "3", "45", "96", "97", "197", "253"]
DAYS = st.dates(datetime.date(2022, 1, 1), datetime.date(2025, 12, 31))
BIRTHDAYS = st.dates(datetime.date(1930, 1, 1), datetime.date(2020, 12, 31))
SEXES = st.sampled_from(["M", "F", "U"])
ADDRESSES = st.builds(
    Address,
    line1=st.from_regex(r"[1-9][0-9]{0,4} [A-Z][a-z]{2,10} (St|Ave|Rd)", fullmatch=True),
    city=NAMES,
    state=st.sampled_from(["IL", "NY", "CA", "TX", "WA"]),
    postal_code=st.from_regex(r"[0-9]{5}([0-9]{4})?", fullmatch=True),
    line2=st.sampled_from(["", "Suite 200", "Apt 3"]),
)


@st.composite
def adjustments(draw: st.DrawFn) -> tuple[Adjustment, ...]:
    """Grouped as the writer groups them: one run of reasons per group code."""
    groups = draw(st.lists(st.sampled_from(GROUPS), max_size=3, unique=True))
    found: list[Adjustment] = []
    for group in groups:
        reasons = draw(st.lists(st.sampled_from(REASONS), min_size=1, max_size=3, unique=True))
        found += [Adjustment(group, reason, draw(st.integers(1, 50_000))) for reason in reasons]
    return tuple(found)


@st.composite
def billing_providers(draw: st.DrawFn) -> BillingProvider:
    person = draw(st.booleans())
    return BillingProvider(
        name=draw(NAMES),
        npi=draw(NPIS),
        ein=draw(st.from_regex(r"[0-9]{9}", fullmatch=True)),
        taxonomy=draw(TAXONOMIES),
        address=draw(ADDRESSES),
        first_name=draw(NAMES) if person else "",
        pay_to=draw(st.none() | ADDRESSES),
    )


@st.composite
def parties(draw: st.DrawFn) -> tuple[Subscriber, Payer, Patient | None]:
    is_patient = draw(st.booleans())
    subscriber = Subscriber(
        last_name=draw(NAMES),
        first_name=draw(NAMES),
        member_id=draw(IDS),
        responsibility=draw(st.sampled_from(["P", "S", "T"])),
        relationship="18" if is_patient else "",
        group_number=draw(st.sampled_from(["", "GRP1", "G77031"])),
        filing_indicator=draw(st.sampled_from(["CI", "MB", "MC", "BL", "HM"])),
        middle_name=draw(st.sampled_from(["", "Q"])),
        address=draw(ADDRESSES) if is_patient else draw(st.none() | ADDRESSES),
        birth_date=draw(BIRTHDAYS) if is_patient else None,
        sex=draw(SEXES) if is_patient else "",
    )
    if is_patient:
        patient = None
    else:
        patient = Patient(
            last_name=draw(NAMES),
            first_name=draw(NAMES),
            relationship=draw(st.sampled_from(["01", "19", "20", "21", "39", "40", "53", "G8"])),
            birth_date=draw(BIRTHDAYS),
            sex=draw(SEXES),
            address=draw(ADDRESSES),
        )
    return subscriber, Payer(draw(NAMES), draw(IDS)), patient


def providers(*, taxonomy: bool) -> st.SearchStrategy[Provider]:
    return st.builds(
        Provider,
        last_name=NAMES,
        first_name=NAMES,
        npi=NPIS,
        taxonomy=TAXONOMIES if taxonomy else st.just(""),
    )


@st.composite
def other_coverages(draw: st.DrawFn) -> OtherCoverage:
    return OtherCoverage(
        responsibility=draw(st.sampled_from(["P", "S"])),
        relationship=draw(st.sampled_from(["18", "01", "19"])),
        subscriber_last_name=draw(NAMES),
        subscriber_first_name=draw(NAMES),
        member_id=draw(IDS),
        payer_name=draw(NAMES),
        payer_id=draw(IDS),
        group_number=draw(st.sampled_from(["", "G1"])),
        filing_indicator=draw(st.sampled_from(["CI", "MB", "MC"])),
        paid_cents=draw(st.none() | st.integers(0, 500_000)),
        adjustments=draw(adjustments()),
    )


@st.composite
def balanced(draw: st.DrawFn, remainder: int) -> tuple[Adjustment, ...]:
    """Adjustments adding up to ``remainder`` (what the other payer did not pay)."""
    if remainder == 0:
        return ()
    shape = draw(adjustments()) or (Adjustment("CO", "45", 0),)
    if len(shape) > remainder:
        shape = shape[:1]
    cuts = (
        sorted(
            draw(
                st.lists(
                    st.integers(1, remainder - 1),
                    min_size=len(shape) - 1,
                    max_size=len(shape) - 1,
                    unique=True,
                )
            )
        )
        if len(shape) > 1
        else []
    )
    bounds = [0, *cuts, remainder]
    return tuple(replace(a, amount_cents=bounds[i + 1] - bounds[i]) for i, a in enumerate(shape))


@st.composite
def service_lines(draw: st.DrawFn, diagnoses: int, place: str, payer_ids: tuple[str, ...]) -> ServiceLine:
    pointers = draw(st.lists(st.integers(1, diagnoses), min_size=1, max_size=4, unique=True))
    procedure = draw(st.sampled_from(PROCEDURES))
    modifiers = tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True)))
    day = draw(DAYS)
    charge = draw(st.integers(1, 500_000))
    adjudications = []
    for payer_id in payer_ids:
        if not draw(st.booleans()):
            continue
        paid = draw(st.integers(0, charge))  # SVD02 + CAS = the line's charge
        adjudications.append(
            LineAdjudication(
                payer_id=payer_id,
                paid_cents=paid,
                procedure_code=procedure,
                units=draw(st.integers(1, 4)),
                adjudicated_on=day + datetime.timedelta(days=draw(st.integers(5, 60))),
                modifiers=modifiers,
                adjustments=draw(balanced(charge - paid)),
            )
        )
    return ServiceLine(
        procedure_code=procedure,
        charge_cents=charge,
        units=draw(st.integers(1, 12)),
        service_date=day,
        diagnosis_pointers=tuple(pointers),
        modifiers=modifiers,
        place_of_service=draw(st.sampled_from(["", *[p for p in PLACES if p != place]])),
        adjudications=tuple(adjudications),
        control_number=draw(st.just("") | st.from_regex(r"[A-Z0-9]{1,12}-[1-9][0-9]?", fullmatch=True)),
    )


@st.composite
def claims(draw: st.DrawFn, billing: BillingProvider, number: int) -> Claim:
    subscriber, payer, patient = draw(parties())
    place = draw(st.sampled_from(PLACES))
    diagnoses = tuple(draw(st.lists(st.sampled_from(DIAGNOSES), min_size=1, max_size=12, unique=True)))
    coverages = tuple(draw(st.lists(other_coverages(), max_size=2, unique_by=lambda c: c.payer_id)))
    if subscriber.responsibility != "P" and not coverages:
        coverages = (draw(other_coverages()),)
    payer_ids = tuple(coverage.payer_id for coverage in coverages)
    lines = tuple(draw(st.lists(service_lines(len(diagnoses), place, payer_ids), min_size=1, max_size=50)))
    coverages = tuple(_paid_as_on_lines(coverage, lines) for coverage in coverages)
    frequency = draw(st.sampled_from(["1", "7", "8"]))
    return Claim(
        billing_provider=billing,
        subscriber=subscriber,
        payer=payer,
        patient=patient,
        patient_control_number=draw(st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)) + f"-{number}",
        total_charge_cents=sum(line.charge_cents for line in lines),
        place_of_service=place,
        diagnoses=diagnoses,
        lines=lines,
        frequency=frequency,
        prior_authorization=draw(st.sampled_from(["", "AUTH1", "PA99821"])),
        payer_claim_control_number=draw(IDS) if frequency != "1" else "",
        rendering=draw(st.none() | providers(taxonomy=draw(st.booleans()))),
        supervising=draw(st.none() | providers(taxonomy=False)),
        service_facility=draw(
            st.none() | st.builds(ServiceFacility, name=NAMES, address=ADDRESSES, npi=st.just("") | NPIS)
        ),
        other_coverages=coverages,
    )


def _paid_as_on_lines(coverage: OtherCoverage, lines: tuple[ServiceLine, ...]) -> OtherCoverage:
    """A payer that adjudicated lines paid, on the claim (AMT*D), the sum of its lines' SVD02."""
    paid = [a.paid_cents for line in lines for a in line.adjudications if a.payer_id == coverage.payer_id]
    return replace(coverage, paid_cents=sum(paid)) if paid else coverage


@st.composite
def claim_sets(draw: st.DrawFn) -> ClaimSet:
    pool = draw(st.lists(billing_providers(), min_size=1, max_size=2))
    count = draw(st.integers(1, 3))
    made = tuple(draw(claims(draw(st.sampled_from(pool)), number)) for number in range(count))
    # a repeated claim's parties exercise the HL grouping (the same subscriber, several claims)
    if draw(st.booleans()):
        made += (replace(made[-1], patient_control_number=f"R-{len(made)}"),)
    return ClaimSet(
        submitter=Submitter(
            draw(NAMES), draw(IDS), draw(NAMES), draw(st.from_regex(r"[2-9][0-9]{9}", fullmatch=True))
        ),
        receiver=Receiver(draw(NAMES), draw(IDS)),
        reference=draw(IDS),
        created_at=datetime.datetime.combine(
            draw(DAYS), datetime.time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
        ),
        claims=made,
    )


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(claim_sets())
def test_generated_claim_sets_validate_and_read_back(claim_set: ClaimSet) -> None:
    text = write(claim_set)
    assert judge(text) == []
    assert read_837(text) == [claim_set]


# ----------------------------------------------------------------------------- public samples (../shared)


@needs_samples
@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("demo.example1.837", True),
        ("demo.example2.837", True),
        ("demo.cob.example3.B.837", True),
        ("demo.cob.example3.C.837", True),
        ("demo.cob.example3.A.837", False),  # its 2320 lacks the other payer's 2330B
    ],
)
def test_the_judge_agrees_with_public_837p_samples(name: str, valid: bool) -> None:
    # The samples are the A2 errata; pyx12 has the A1 maps, which these examples fit.
    text = (GUIDE_837P / name).read_text(encoding="utf-8-sig").replace("X222A2", "X222A1")
    assert (judge(text) == []) is valid
