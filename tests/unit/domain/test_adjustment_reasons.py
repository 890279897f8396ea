"""Adjustment reasons: each CAS group + CARC posts one way (contractual, patient, denial,
other), every listed code is explained in our words, and an unknown code is never refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.domain.adjustment_reasons import (
    REASONS,
    REMARKS,
    DefaultAction,
    DenialCategory,
    Disposition,
    PatientReason,
    classify,
    normalize_code,
    reason_info,
    remark_info,
)

CARC_SHAPE = re.compile(r"^[A-Z]?\d{1,3}$|^[A-Z]\d{1,2}$")
RARC_SHAPE = re.compile(r"^(M|N|MA)\d{1,3}$")
PAID = 9000  # the line was paid something
UNPAID = 0


# -- the table ------------------------------------------------------------------------------


def test_every_category_has_at_least_one_denial_reason() -> None:
    categories = {info.category for info in REASONS.values() if info.is_denial_reason}
    assert categories == set(DenialCategory)


def test_the_table_holds_the_codes_common_in_behavioral_health() -> None:
    assert len(REASONS) >= 40
    for code in ("1", "2", "3", "16", "18", "29", "45", "50", "96", "97", "197", "253", "B7"):
        assert code in REASONS
    assert len(REMARKS) >= 10
    for rarc in ("N130", "M127", "N290", "MA130", "N362", "M51", "N4", "N657", "N479", "MA04"):
        assert rarc in REMARKS


def test_codes_are_keyed_by_themselves_and_shaped_like_x12_codes() -> None:
    for code, info in REASONS.items():
        assert info.code == code
        assert CARC_SHAPE.match(code), code
        assert normalize_code(code) == code
        assert info.known
    for code, remark in REMARKS.items():
        assert remark.code == code
        assert RARC_SHAPE.match(code), code
        assert remark.known


def test_every_listed_code_has_a_plain_sentence_of_our_own() -> None:
    explanations = [info.explanation for info in REASONS.values()]
    explanations += [remark.explanation for remark in REMARKS.values()]
    for text in explanations:
        assert 20 <= len(text) <= 300, text
        assert text[0].isupper(), text
        assert text.endswith("."), text
        assert "not in Revcycle's list" not in text
    assert len(set(explanations)) == len(explanations)  # no copy-paste between codes


def test_reasons_that_never_deny_are_the_share_and_the_contract() -> None:
    never = {code for code, info in REASONS.items() if not info.is_denial_reason}
    assert never == {"1", "2", "3", "23", "24", "44", "45", "100", "131", "237", "253"}


def test_no_denial_reason_waits_for_nothing_but_the_known_ones() -> None:
    # A denial whose action is none must say why: a duplicate, a hold, a forwarded claim.
    idle = {
        code
        for code, info in REASONS.items()
        if info.is_denial_reason and info.default_action is DefaultAction.NONE
    }
    assert idle == {"18", "133", "B11"}


# -- looking codes up -----------------------------------------------------------------------


def test_a_known_reason_is_explained() -> None:
    info = reason_info("97")
    assert info.category is DenialCategory.CODING
    assert info.default_action is DefaultAction.FIX_AND_RESUBMIT
    assert info.is_denial_reason
    assert "included in another" in info.explanation


@pytest.mark.parametrize("raw", [" 45", "045", "45\n"])
def test_codes_are_read_trimmed_and_without_leading_zeros(raw: str) -> None:
    assert reason_info(raw) is REASONS["45"]


def test_lettered_codes_are_read_in_any_case() -> None:
    assert reason_info("b7") is REASONS["B7"]
    assert remark_info(" n130 ") is REMARKS["N130"]


def test_an_unknown_reason_is_explained_as_unknown() -> None:
    info = reason_info("P31")
    assert (info.code, info.known, info.is_denial_reason) == ("P31", False, False)
    assert info.category is DenialCategory.OTHER
    assert info.explanation == "Reason code P31 (not in Revcycle's list)."


def test_an_unknown_remark_is_explained_as_unknown() -> None:
    remark = remark_info("N9999")
    assert (remark.code, remark.known) == ("N9999", False)
    assert remark.explanation == "Remark code N9999 (not in Revcycle's list)."


def test_blank_codes_are_explained_not_refused() -> None:
    assert reason_info("").explanation == "Reason code (blank) (not in Revcycle's list)."
    assert remark_info("  ").explanation == "Remark code (blank) (not in Revcycle's list)."


# -- classification: PR -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carc", "reason"),
    [
        ("1", PatientReason.DEDUCTIBLE),
        ("2", PatientReason.COINSURANCE),
        ("3", PatientReason.COPAY),
        ("96", PatientReason.NON_COVERED),
        ("204", PatientReason.NON_COVERED),
        ("999", PatientReason.NON_COVERED),
    ],
)
def test_patient_responsibility_posts_to_the_client_with_its_reason(carc: str, reason: PatientReason) -> None:
    for paid in (PAID, UNPAID):
        result = classify("PR", carc, line_paid_cents=paid)
        assert result.disposition is Disposition.PATIENT
        assert result.patient_reason is reason
        assert result.default_action is DefaultAction.BILL_PATIENT


def test_the_clients_share_is_not_a_denial_but_a_refused_benefit_is() -> None:
    coinsurance = classify("PR", "2", line_paid_cents=PAID)
    ended = classify("PR", "27", line_paid_cents=UNPAID)
    assert not coinsurance.counts_as_denial
    assert ended.counts_as_denial
    assert ended.category is DenialCategory.ELIGIBILITY_COVERAGE
    assert ended.disposition is Disposition.PATIENT


# -- classification: CO and PI --------------------------------------------------------------


@pytest.mark.parametrize("group", ["CO", "PI"])
@pytest.mark.parametrize("carc", ["45", "253", "131", "24", "237"])
def test_the_contract_is_a_contractual_write_down(group: str, carc: str) -> None:
    result = classify(group, carc, line_paid_cents=PAID)
    assert result.disposition is Disposition.CONTRACTUAL
    assert result.default_action is DefaultAction.NONE
    assert result.patient_reason is None
    assert not result.counts_as_denial


@pytest.mark.parametrize("carc", ["59", "97", "234", "236"])
def test_bundling_and_multiple_procedure_cuts_are_denials_not_contract(carc: str) -> None:
    result = classify("CO", carc, line_paid_cents=PAID)
    assert result.disposition is Disposition.DENIAL
    assert result.category is DenialCategory.CODING
    assert result.default_action is DefaultAction.FIX_AND_RESUBMIT


@pytest.mark.parametrize(
    ("carc", "category", "action"),
    [
        ("16", DenialCategory.MISSING_INFORMATION, DefaultAction.FIX_AND_RESUBMIT),
        ("18", DenialCategory.DUPLICATE, DefaultAction.NONE),
        ("22", DenialCategory.COORDINATION_OF_BENEFITS, DefaultAction.FIX_AND_RESUBMIT),
        ("27", DenialCategory.ELIGIBILITY_COVERAGE, DefaultAction.FIX_AND_RESUBMIT),
        ("29", DenialCategory.TIMELY_FILING, DefaultAction.APPEAL),
        ("50", DenialCategory.MEDICAL_NECESSITY, DefaultAction.APPEAL),
        ("197", DenialCategory.AUTHORIZATION, DefaultAction.APPEAL),
        ("170", DenialCategory.NON_COVERED, DefaultAction.WRITE_OFF),
        ("B7", DenialCategory.OTHER, DefaultAction.FIX_AND_RESUBMIT),
    ],
)
def test_a_denial_reason_under_co_is_a_denial_with_its_category_and_action(
    carc: str, category: DenialCategory, action: DefaultAction
) -> None:
    result = classify("CO", carc, line_paid_cents=UNPAID)
    assert (result.disposition, result.category, result.default_action) == (
        Disposition.DENIAL,
        category,
        action,
    )
    assert result.patient_reason is None
    assert result.counts_as_denial


@pytest.mark.parametrize("carc", ["96", "119", "204", "242", "35"])
def test_a_non_covered_denial_the_client_may_not_be_billed_for_is_written_off(carc: str) -> None:
    assert REASONS[carc].default_action is DefaultAction.BILL_PATIENT
    for group in ("CO", "PI", "OA"):
        result = classify(group, carc, line_paid_cents=UNPAID)
        assert result.disposition is Disposition.DENIAL
        assert result.default_action is DefaultAction.WRITE_OFF
    assert classify("PR", carc, line_paid_cents=UNPAID).default_action is DefaultAction.BILL_PATIENT


def test_pi_posts_like_co() -> None:
    for carc in ("45", "97", "50", "Z9", "777"):
        for paid in (PAID, UNPAID):
            co = classify("CO", carc, line_paid_cents=paid)
            pi = classify("PI", carc, line_paid_cents=paid)
            assert (pi.disposition, pi.category, pi.default_action) == (
                co.disposition,
                co.category,
                co.default_action,
            )


def test_an_unknown_co_code_is_contract_on_a_paid_line_and_a_denial_on_an_unpaid_one() -> None:
    paid = classify("CO", "P12", line_paid_cents=PAID)
    unpaid = classify("CO", "P12", line_paid_cents=UNPAID)
    assert paid.disposition is Disposition.CONTRACTUAL
    assert unpaid.disposition is Disposition.DENIAL
    assert unpaid.category is DenialCategory.OTHER
    assert unpaid.default_action is DefaultAction.FIX_AND_RESUBMIT
    assert "not in Revcycle's list" in unpaid.reason.explanation


def test_a_reversal_line_classifies_as_the_line_it_reverses() -> None:
    original = classify("CO", "P12", line_paid_cents=PAID)
    reversal = classify("CO", "P12", line_paid_cents=-PAID)
    assert reversal.disposition is original.disposition is Disposition.CONTRACTUAL


# -- classification: OA, CR, others -------------------------------------------------------


def test_oa_duplicate_is_a_duplicate_denial() -> None:
    result = classify("OA", "18", line_paid_cents=UNPAID)
    assert (result.disposition, result.category) == (Disposition.DENIAL, DenialCategory.DUPLICATE)


@pytest.mark.parametrize("group", ["OA", "CO", "PI"])
def test_the_prior_payers_share_is_an_other_adjustment(group: str) -> None:
    for paid in (PAID, UNPAID):
        result = classify(group, "23", line_paid_cents=paid)
        assert result.disposition is Disposition.OTHER
        assert result.default_action is DefaultAction.NONE
        assert not result.counts_as_denial


def test_oa_with_a_known_reason_that_is_no_denial_is_other() -> None:
    assert classify("OA", "45", line_paid_cents=PAID).disposition is Disposition.OTHER


def test_an_unknown_oa_code_is_other_when_paid_and_a_denial_when_not() -> None:
    assert classify("OA", "P12", line_paid_cents=PAID).disposition is Disposition.OTHER
    assert classify("OA", "P12", line_paid_cents=UNPAID).disposition is Disposition.DENIAL


def test_a_payment_sent_to_the_client_is_the_clients_to_pay_whatever_the_group() -> None:
    for group in ("PR", "OA", "CO"):
        result = classify(group, "100", line_paid_cents=UNPAID)
        assert result.disposition is Disposition.PATIENT
        assert result.patient_reason is PatientReason.PAID_TO_PATIENT


@pytest.mark.parametrize("carc", ["45", "97", "2", "P12"])
def test_cr_corrections_are_other(carc: str) -> None:
    result = classify("CR", carc, line_paid_cents=UNPAID)
    assert result.disposition is Disposition.OTHER
    assert result.default_action is DefaultAction.NONE


def test_a_group_we_cannot_read_is_a_denial_for_a_person_to_look_at() -> None:
    result = classify("ZZ", "45", line_paid_cents=PAID)
    assert result.disposition is Disposition.DENIAL
    assert result.default_action is DefaultAction.FIX_AND_RESUBMIT


def test_group_and_code_are_normalized() -> None:
    result = classify(" co", "045 ", line_paid_cents=PAID)
    assert (result.group, result.carc, result.disposition) == ("CO", "45", Disposition.CONTRACTUAL)


# -- never raises ---------------------------------------------------------------------------


@given(st.text(max_size=4), st.text(max_size=6), st.integers(-(10**9), 10**9))
def test_classify_never_raises_and_is_consistent(group: str, carc: str, paid: int) -> None:
    result = classify(group, carc, line_paid_cents=paid)
    assert (result.patient_reason is not None) == (result.disposition is Disposition.PATIENT)
    if result.disposition in (Disposition.CONTRACTUAL, Disposition.OTHER):
        assert result.default_action is DefaultAction.NONE
    if result.disposition is Disposition.DENIAL:
        assert result.default_action is not DefaultAction.BILL_PATIENT
    assert result.reason.explanation


@given(st.text(max_size=8))
def test_lookups_never_raise(code: str) -> None:
    assert reason_info(code).explanation
    assert remark_info(code).explanation


def test_labels_read_as_words() -> None:
    assert DenialCategory.ELIGIBILITY_COVERAGE.label == "Eligibility / coverage"
    assert DefaultAction.FIX_AND_RESUBMIT.label == "Fix and resubmit"
    assert all(category.label for category in DenialCategory)
