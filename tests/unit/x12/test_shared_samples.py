"""Every public sample X12 file under ../shared/x12-samples goes through our reader: the
well-formed ones are read whole, and the broken ones are refused for the reason listed here
(each was checked by hand: the samples were edited for other parsers' tests and their counts,
delimiters or envelopes are wrong). CI has ../shared; without it these tests are skipped."""

from __future__ import annotations

import pytest

from revcycle.x12 import X12Error, read_interchanges
from revcycle.x12.read835 import read_835
from revcycle.x12.remit835 import balance_problems
from tests.unit.x12.samples import SAMPLES, needs_samples

SUFFIXES = {".txt", ".837", ".835", ".276", ".277", ".270", ".271", ".837i", ".x12", ".edi", ".999"}

pytestmark = needs_samples

# (sample repository, file name) -> a fragment of what our error says
MALFORMED: dict[tuple[str, str], str] = {
    # SE01 does not count the segments from ST to SE (samples edited by hand)
    ("CHS-CDS-AIML-edi-835-parser", "test.835"): "segment 18 (SE), SE01",
    ("Inteligenz-X12Parser", "InstitutionalClaim5010.txt"): "segment 80 (SE), SE01",
    ("Inteligenz-X12Parser", "ProfessionalClaim1.txt"): "segment 63 (SE), SE01",
    ("affect-therapeutics-edi-835-parser", "sample_835.txt"): "segment 57 (SE), SE01",
    ("imsweb-x12-parser", "x12_ambiguous_loop.txt"): "segment 35 (SE), SE01",
    ("imsweb-x12-parser", "x12_bad_valid_code.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_complex.txt"): "segment 149 (SE), SE01",
    ("imsweb-x12-parser", "x12_loop_errors1_exceeds_max_1_parent.txt"): "segment 33 (SE), SE01",
    (
        "imsweb-x12-parser",
        "x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt",
    ): "segment 52 (SE), SE01",
    ("imsweb-x12-parser", "x12_loop_errors3_missing_loops.txt"): "segment 21 (SE), SE01",
    ("imsweb-x12-parser", "x12_many_claims.txt"): "segment 11488 (SE), SE01",
    ("imsweb-x12-parser", "x12_missing_elements.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_missing_required_loop_in_one_repeat.txt"): "segment 42 (SE), SE01",
    ("imsweb-x12-parser", "x12_missing_required_loops_mult_repeats.txt"): "segment 61 (SE), SE01",
    ("imsweb-x12-parser", "x12_multiple_gs.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_multiple_isa.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_multiple_st.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_multiple_transactions.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_no_errors.txt"): "segment 43 (SE), SE01",
    ("imsweb-x12-parser", "x12_segment_errors.txt"): "segment 25 (SE), SE01",
    ("imsweb-x12-parser", "x12_segments_out_of_order.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_valid.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_valid_different_separators.txt"): "segment 36 (SE), SE01",
    ("imsweb-x12-parser", "x12_writer_test.txt"): "segment 33 (SE), SE01",
    ("imsweb-x12-parser", "x223-test.txt"): "segment 50 (SE), SE01",
    ("imsweb-x12-parser", "x270.txt"): "segment 16 (SE), SE01",
    ("imsweb-x12-parser", "x271.txt"): "segment 20 (SE), SE01",
    # ISA11 and ISA16 are both '^': repetitions cannot be told from components
    ("Inteligenz-X12Parser", "Example_3_1_2.txt"): "ISA16: wrong or inconsistent delimiters",
    (
        "Inteligenz-X12Parser",
        "Example_ErrorWithoutBenefitInfo.txt",
    ): "ISA16: wrong or inconsistent delimiters",
    (
        "Inteligenz-X12Parser",
        "ValidationForDependentBenefitInfo.txt",
    ): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "ValidationForDependentName.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "ValidationForReceiverName.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "ValidationForSource.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "ValidationForSourceName.txt"): "ISA16: wrong or inconsistent delimiters",
    (
        "Inteligenz-X12Parser",
        "ValidationForSubscriberBenefitInfo.txt",
    ): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "ValidationForSubscriberName.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "ValidationOnAll.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "Example_3_1_3.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "Example_3_2_2.txt"): "ISA16: wrong or inconsistent delimiters",
    ("Inteligenz-X12Parser", "Spec_3.1.1.txt"): "ISA16: wrong or inconsistent delimiters",
    # truncated: the file stops inside a transaction set (the UTF-16 one after NM1*41)
    ("Inteligenz-X12Parser", "FromBogeyone.txt"): "truncated (no IEA)",
    ("Inteligenz-X12Parser", "UnicodeExample.txt"): "truncated (no IEA)",
    # the ISA is not fixed width (ISA02 one space; ISA09 and ISA13 mangled)
    ("Inteligenz-X12Parser", "FromLatitude81uk.txt"): "segment 1 (ISA), ISA13",
    ("affect-therapeutics-edi-835-parser", "nevada_medicaid.txt"): "segment 1 (ISA), ISA02",
    ("imsweb-x12-parser", "x12_bad_first_line.txt"): "segment 1 (ISA), ISA02",
    # SE02 differs from ST02
    ("LinuxForHealth-x12", "subscriber-health-benefit-check-error.271"): "segment 10 (SE), SE02",
    # no ISA: a bare transaction set or group, not an interchange
    ("affect-therapeutics-edi-835-parser", "exhaustive_sample.txt"): "expected an ISA interchange header",
    ("diasks2-era_835_parser", "example_1.835"): "expected an ISA interchange header",
    ("diasks2-era_835_parser", "example_2.835"): "expected an ISA interchange header",
    ("diasks2-era_835_parser", "example_3.835"): "expected an ISA interchange header",
    ("diasks2-era_835_parser", "example_4.835"): "expected an ISA interchange header",
    ("diasks2-era_835_parser", "example_5.835"): "expected an ISA interchange header",
    ("diasks2-era_835_parser", "example_6.835"): "expected an ISA interchange header",
    ("imsweb-x12-parser", "x12_no_isa_line.txt"): "expected an ISA interchange header",
    ("keironstoddart-edi-835-parser", "blue_cross_nc_sample.txt"): "expected an ISA interchange header",
    # a line that is not a segment (a stray fragment of the one before)
    (
        "affect-therapeutics-edi-835-parser",
        "sample_835_with_interests.txt",
    ): "does not start with a segment id",
    ("imsweb-x12-parser", "x12_bad_segment_identifier.txt"): "does not start with a segment id",
    # IEA02 differs from ISA13
    ("imsweb-x12-parser", "x12_277_x212.txt"): "segment 111 (IEA), IEA02",
    # GS05 102497 is not a time (minute 24, second 97)
    ("imsweb-x12-parser", "x12_999_accepted.txt"): "segment 2 (GS), GS05",
}


def decode(raw: bytes) -> str:
    """Samples come as UTF-8, Latin-1 or UTF-16 (one without its BOM)."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    if raw[1:2] == b"\x00":
        return raw.decode("utf-16-le")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def sample_files() -> list[str]:
    if not SAMPLES.exists():
        return []
    return sorted(
        path.relative_to(SAMPLES).as_posix()
        for path in SAMPLES.rglob("*")
        if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.upper().startswith("LICENSE")
    )


def key(name: str) -> tuple[str, str]:
    parts = name.split("/")
    return parts[0], parts[-1]


@pytest.mark.parametrize("name", sample_files())
def test_each_sample_is_read_or_refused_for_its_known_fault(name: str) -> None:
    text = decode((SAMPLES / name).read_bytes())

    fault = MALFORMED.get(key(name))
    if fault is not None:
        with pytest.raises(X12Error) as caught:
            read_interchanges(text)
        assert fault in str(caught.value)
    else:
        interchanges = read_interchanges(text)
        assert interchanges
        assert all(group.transactions for i in interchanges for group in i.groups)


def test_the_list_of_malformed_samples_names_only_files_that_exist() -> None:
    assert set(MALFORMED) <= {key(name) for name in sample_files()}


def test_most_samples_are_well_formed() -> None:
    well_formed = [name for name in sample_files() if key(name) not in MALFORMED]
    assert len(well_formed) >= 70  # 74 today


# ----------------------------------------------------------------------------- 835 remittances

# 835 samples whose envelope reads but whose 835 is refused (each checked by hand)
REFUSED_835: dict[tuple[str, str], str] = {
    # a 4010 file (ISA12 00401) whose GS08 says "5010": not the 5010 835
    ("Inteligenz-X12Parser", "Example1.txt"): "implementation '5010' (GS08) is not the 5010 835",
    # SVC01 written with the guide's ">" for components while ISA16 declares ":"
    ("LinuxForHealth-x12", "cob-contractural-adjustment.835"): "segment 21 (SVC), SVC01-1: the procedure",
    ("LinuxForHealth-x12", "secondary-payment.835"): "segment 29 (SVC), SVC01-1: the procedure",
    # SVC*HC*24599.00: the procedure code is missing (the charge moved into SVC02's place)
    ("LinuxForHealth-x12", "tertiary-payment.835"): "segment 20 (SVC), SVC01-1: the procedure",
    # BPR16 20002316 is no date (month 23)
    ("LinuxForHealth-x12", "managed-care.835"): "segment 4 (BPR), BPR16: '20002316' is not a CCYYMMDD date",
    # generated without the payment date the guide requires (BPR16)
    (
        "owgreen-dev-x12sdk",
        "generated-bundling-denials.835",
    ): "segment 4 (BPR), BPR16: the payment date is required",
    (
        "owgreen-dev-x12sdk",
        "generated-mixed-claims.835",
    ): "segment 4 (BPR), BPR16: the payment date is required",
}

# 835 samples that read but do not balance, with their first problem: the amounts were masked
# (every charge 999.99) while the adjustments kept other values, so denied claims adjust more
# than they charged.
UNBALANCED_835: dict[tuple[str, str], str] = {
    ("Inteligenz-X12Parser", "ExampleFromNth.txt"): (
        "segment 18 (CLP), CLP04: claim 9999999999-999: charge 999.99 - adjustments 1099.98 = -99.99, "
        "paid 0.00: off by 99.99"
    ),
    ("Inteligenz-X12Parser", "835_WithMultipleInterchanges.txt"): (
        "segment 18 (CLP), CLP04: claim 9999999999-999: charge 999.99 - adjustments 1099.98 = -99.99, "
        "paid 0.00: off by 99.99"
    ),
}


def remittance_samples() -> list[str]:
    """The 835 samples whose envelope our reader accepts (the others are in MALFORMED)."""
    return [
        name
        for name in sample_files()
        if key(name) not in MALFORMED and "ST*835*" in decode((SAMPLES / name).read_bytes())
    ]


@pytest.mark.parametrize("name", remittance_samples())
def test_each_835_sample_parses_and_balances_or_fails_for_its_known_fault(name: str) -> None:
    text = decode((SAMPLES / name).read_bytes())
    refused = REFUSED_835.get(key(name))
    if refused is not None:
        with pytest.raises(X12Error) as caught:
            read_835(text)
        assert refused in str(caught.value)
        return
    remittances = read_835(text)
    assert remittances
    assert all(r.claims for r in remittances)
    problems = [str(problem) for r in remittances for problem in balance_problems(r)]
    unbalanced = UNBALANCED_835.get(key(name))
    if unbalanced is None:
        assert problems == []
    else:
        assert problems[0] == unbalanced


def test_the_835_samples_are_all_found_and_most_balance() -> None:
    found = {key(name) for name in remittance_samples()}
    assert set(REFUSED_835) | set(UNBALANCED_835) <= found
    assert len(found - set(REFUSED_835) - set(UNBALANCED_835)) >= 4  # 4 today
