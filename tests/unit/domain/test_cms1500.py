"""The CMS-1500 (02/12) mapping, box by box: a claim's facts -> what each box prints."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from revcycle.domain.cms1500 import (
    LINES_PER_PAGE,
    AddressBox,
    Amount,
    OtherInsurance,
    PaperClaimFacts,
    ServiceFacility,
    cms1500_form,
    diagnosis_letters,
    split_amount,
)
from revcycle.domain.npi import make_npi
from revcycle.domain.scrubber import (
    Address,
    Authorization,
    BillingProvider,
    ClaimFacts,
    ClaimLine,
    Coverage,
    Payer,
    Person,
    Provider,
)

SERVICE_ON = date(2026, 5, 4)
GROUP_NPI = make_npi("123456789")
THERAPIST_NPI = make_npi("198765432")
SUPERVISOR_NPI = make_npi("155555555")

PATIENT = Person(
    last_name="Rivera",
    first_name="Ana",
    date_of_birth=date(2012, 3, 14),
    sex="F",
    address=Address("12 Elm St", "Philadelphia", "PA", "191031234", line2="Apt 4"),
)
MOTHER = Person(
    last_name="Rivera",
    first_name="Marisol",
    date_of_birth=date(1984, 7, 2),
    sex="F",
)


def line(**changes: Any) -> ClaimLine:
    """90837, $160, pointing at the first diagnosis."""
    return replace(ClaimLine(procedure_code="90837", charge_cents=16000, diagnosis_pointers=(1,)), **changes)


def claim(**changes: Any) -> ClaimFacts:
    facts = ClaimFacts(
        claim_number="RC000123",
        service_from_on=SERVICE_ON,
        place_of_service="11",
        billing_provider=BillingProvider(
            name="Calm Waters Counseling LLC",
            npi=GROUP_NPI,
            tax_id="12-3456789",
            taxonomy_code="261QM0801X",
            address=Address("100 Market St", "Philadelphia", "PA", "19106-1234", line2="Suite 200"),
        ),
        patient=PATIENT,
        coverage=Coverage(
            member_id="XYZ123456789",
            subscriber=PATIENT,
            relationship_to_subscriber="self",
            group_number="GRP-889",
        ),
        payer=Payer(name="Aetna", payer_id="60054"),
        diagnosis_codes=("F41.1", "Z65.8"),
        lines=(line(),),
        today=date(2026, 5, 11),
        rendering_provider=Provider("Okafor", "Grace", THERAPIST_NPI, "101YP2500X"),
    )
    return replace(facts, **changes)


def paper(**changes: Any) -> PaperClaimFacts:
    claim_changes = {key: changes.pop(key) for key in list(changes) if key in ClaimFacts.__dataclass_fields__}
    facts = PaperClaimFacts(
        claim=claim(**claim_changes),
        payer_kind="commercial",
        patient_phone="215-555-0142",
        billing_phone="(215) 555-0100",
        rendering_credentials="LCSW",
        signed_on=date(2026, 5, 6),
    )
    return replace(facts, **changes)


# --- the insured and the patient (boxes 1 to 13) ----------------------------------------------


def test_box_1_program_follows_the_payers_kind() -> None:
    assert cms1500_form(paper()).box1_program == "group"
    assert cms1500_form(paper(payer_kind="medicare")).box1_program == "medicare"
    assert cms1500_form(paper(payer_kind="medicaid")).box1_program == "medicaid"
    assert cms1500_form(paper(payer_kind="tricare")).box1_program == "tricare"
    assert cms1500_form(paper(payer_kind="medicare_advantage")).box1_program == "other"
    assert cms1500_form(paper(payer_kind="self_pay")).box1_program == "other"


def test_patient_boxes_2_3_5() -> None:
    form = cms1500_form(paper())
    assert form.box1a_insured_id == "XYZ123456789"
    assert form.box2_patient_name == "RIVERA, ANA"
    assert (form.box3_patient_birth, form.box3_patient_sex) == ("03 14 2012", "F")
    assert form.box5_patient_address == AddressBox(
        street="12 ELM ST APT 4",
        city="PHILADELPHIA",
        state="PA",
        zip_code="19103-1234",
        phone_area="215",
        phone_number="555-0142",
    )


def test_a_subscriber_who_is_not_the_patient_fills_boxes_4_6_7_11a() -> None:
    coverage = Coverage(
        member_id="W998877",
        subscriber=MOTHER,
        relationship_to_subscriber="child",
        group_number="G-77",
    )
    form = cms1500_form(paper(coverage=coverage))
    assert form.box2_patient_name == "RIVERA, ANA"
    assert form.box4_insured_name == "RIVERA, MARISOL"
    assert form.box6_relationship == "child"
    assert (form.box11a_insured_birth, form.box11a_insured_sex) == ("07 02 1984", "F")
    assert form.box11_insured_group == "G-77"
    # the mother's address is not known: box 7 stays empty rather than repeating the child's
    assert form.box7_insured_address == AddressBox()


def test_the_patient_as_insured_repeats_name_and_address_in_4_and_7() -> None:
    form = cms1500_form(paper())
    assert form.box6_relationship == "self"
    assert form.box4_insured_name == "RIVERA, ANA"
    assert form.box7_insured_address.street == "12 ELM ST APT 4"
    assert form.box7_insured_address.zip_code == "19103-1234"
    assert (form.box11a_insured_birth, form.box11a_insured_sex) == ("03 14 2012", "F")


@pytest.mark.parametrize(
    ("stored", "printed"), [("spouse", "spouse"), ("01", "spouse"), ("19", "child"), ("G8", "other")]
)
def test_box_6_relationship_words_and_x12_codes(stored: str, printed: str) -> None:
    coverage = Coverage(member_id="W1", subscriber=MOTHER, relationship_to_subscriber=stored)
    assert cms1500_form(paper(coverage=coverage)).box6_relationship == printed


def test_secondary_coverage_fills_9_9a_9d_and_answers_11d_yes() -> None:
    other = OtherInsurance(insured=MOTHER, policy_number="BCX55501", plan_name="Independence Blue Cross")
    form = cms1500_form(paper(other_insurance=other))
    assert form.box9_other_insured_name == "RIVERA, MARISOL"
    assert form.box9a_other_policy == "BCX55501"
    assert form.box9d_other_plan_name == "INDEPENDENCE BLUE CROSS"
    assert form.box11d_another_plan is True
    without = cms1500_form(paper())
    assert (without.box9_other_insured_name, without.box9a_other_policy, without.box9d_other_plan_name) == (
        "",
        "",
        "",
    )
    assert without.box11d_another_plan is False


def test_box_10_conditions_are_not_accidents_and_11c_names_the_plan() -> None:
    form = cms1500_form(paper())
    assert (form.box10a_employment, form.box10b_auto_accident, form.box10c_other_accident) == (
        False,
        False,
        False,
    )
    assert form.box11c_plan_name == "AETNA"
    assert form.payer_name == "AETNA"


def test_signatures_on_file_and_dated_12_13_31() -> None:
    form = cms1500_form(paper())
    assert form.box12_patient_signature == form.box13_insured_signature == "SIGNATURE ON FILE"
    assert form.box12_date == form.box31_date == "05 06 26"
    assert form.box31_signature == "GRACE OKAFOR LCSW"


# --- the provider and the services (boxes 14 to 33) --------------------------------------------


def test_box_17_is_the_supervising_provider_when_there_is_one() -> None:
    supervisor = Provider("Lindqvist", "Erik", SUPERVISOR_NPI)
    form = cms1500_form(paper(supervising_provider=supervisor))
    assert (form.box17_qualifier, form.box17_name, form.box17b_npi) == (
        "DQ",
        "LINDQVIST, ERIK",
        SUPERVISOR_NPI,
    )
    plain = cms1500_form(paper())
    assert (plain.box17_qualifier, plain.box17_name, plain.box17b_npi) == ("", "", "")


def test_box_21_lists_icd10_codes_lettered_without_the_decimal_point() -> None:
    codes = ("F41.1", "Z65.8", "F32.9", "F43.10", "F43.12")
    form = cms1500_form(paper(diagnosis_codes=codes))
    assert form.box21_icd_indicator == "0"
    assert form.box21_diagnoses == ("F411", "Z658", "F329", "F4310", "F4312")


def test_box_22_resubmission_code_and_original_reference_only_for_a_replacement_or_void() -> None:
    replacement = cms1500_form(paper(frequency="7", original_reference="ICN2026050400123"))
    assert (replacement.box22_resubmission_code, replacement.box22_original_ref) == ("7", "ICN2026050400123")
    original = cms1500_form(paper(frequency="1", original_reference="ICN2026050400123"))
    assert (original.box22_resubmission_code, original.box22_original_ref) == ("", "")


def test_box_23_prior_authorization_from_the_claim_or_its_authorization() -> None:
    authorization = Authorization("PA-4471", date(2026, 1, 1), date(2026, 12, 31), 20, 3)
    assert cms1500_form(paper(authorization=authorization)).box23_prior_authorization == "PA-4471"
    given = paper(authorization=authorization, prior_authorization="PA-9999")
    assert cms1500_form(given).box23_prior_authorization == "PA-9999"
    assert cms1500_form(paper()).box23_prior_authorization == ""


def test_box_24_a_service_line() -> None:
    [row] = cms1500_form(paper(lines=(line(modifiers=("hj",), units=2),))).box24_lines
    assert (row.from_date, row.to_date) == ("05 04 26", "05 04 26")
    assert row.place_of_service == "11"
    assert (row.procedure, row.modifiers) == ("90837", ("HJ",))
    assert row.pointers == "A"
    assert row.charge == Amount("160", "00")
    assert row.units == "2"
    assert row.rendering_npi == THERAPIST_NPI


def test_telehealth_prints_pos_10_with_modifier_95() -> None:
    telehealth = paper(place_of_service="10", lines=(line(modifiers=("95",)),))
    [row] = cms1500_form(telehealth).box24_lines
    assert (row.place_of_service, row.modifiers) == ("10", ("95",))
    own_place = paper(lines=(line(modifiers=("95",), place_of_service="02"),))
    assert cms1500_form(own_place).box24_lines[0].place_of_service == "02"


def test_pointers_are_letters() -> None:
    assert diagnosis_letters((1, 2)) == "AB"
    assert diagnosis_letters((3, 1, 12)) == "CAL"
    assert diagnosis_letters((1, 2, 3, 4, 5)) == "ABCD"  # the box holds four
    assert diagnosis_letters((0, 13)) == ""
    [row] = cms1500_form(paper(lines=(line(diagnosis_pointers=(1, 2)),))).box24_lines
    assert row.pointers == "AB"


@pytest.mark.parametrize(
    ("cents", "dollars", "rest"),
    [(0, "0", "00"), (5, "0", "05"), (16000, "160", "00"), (123456, "1234", "56"), (100001, "1000", "01")],
)
def test_money_prints_as_dollars_and_cents_fields(cents: int, dollars: str, rest: str) -> None:
    assert split_amount(cents) == Amount(dollars, rest)


def test_negative_money_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        split_amount(-1)


def test_boxes_25_to_28_and_33() -> None:
    lines = (line(charge_cents=16000), line(procedure_code="90785", charge_cents=2550))
    form = cms1500_form(paper(lines=lines))
    assert (form.box25_tax_id, form.box25_kind) == ("123456789", "EIN")
    assert form.box26_patient_account == "RC000123"
    assert form.box27_accept_assignment is True
    assert form.box28_total == Amount("185", "50")
    assert form.box29_amount_paid is None
    assert form.box33_billing == (
        "CALM WATERS COUNSELING LLC",
        "100 MARKET ST SUITE 200",
        "PHILADELPHIA, PA 19106-1234",
    )
    assert (form.box33_phone.phone_area, form.box33_phone.phone_number) == ("215", "555-0100")
    assert form.box33a_npi == GROUP_NPI
    assert form.box33b_other_id == "ZZ261QM0801X"


def test_box_32_service_facility_when_given() -> None:
    facility = ServiceFacility(
        "Calm Waters Center City", Address("1500 Walnut St", "Philadelphia", "PA", "19102")
    )
    form = cms1500_form(paper(service_facility=replace(facility, npi=GROUP_NPI)))
    assert form.box32_facility == ("CALM WATERS CENTER CITY", "1500 WALNUT ST", "PHILADELPHIA, PA 19102")
    assert form.box32a_npi == GROUP_NPI
    assert cms1500_form(paper()).box32_facility == ()


# --- pages, long text, missing data ------------------------------------------------------------


def test_eight_lines_print_on_two_pages_with_the_total_on_the_last() -> None:
    lines = tuple(line(charge_cents=10000 + n, service_on=date(2026, 5, 1 + n)) for n in range(8))
    form = cms1500_form(paper(lines=lines))
    first, second = form.pages()
    assert (first.number, first.count, second.number, second.count) == (1, 2, 2, 2)
    assert len(first.lines) == LINES_PER_PAGE
    assert [row.from_date for row in second.lines] == ["05 07 26", "05 08 26"]
    assert second.blank_rows == 4
    assert first.total is None
    assert second.total == Amount("800", "28")
    assert (first.is_last, second.is_last) == (False, True)


def test_six_lines_fit_one_page_and_a_claim_without_lines_still_prints_one() -> None:
    six = cms1500_form(paper(lines=tuple(line() for _ in range(6))))
    assert [page.count for page in six.pages()] == [1]
    empty = cms1500_form(paper(lines=()))
    [page] = empty.pages()
    assert page.lines == ()
    assert page.total == Amount("0", "00")


def test_long_names_are_cut_to_the_box_width() -> None:
    long_patient = replace(
        PATIENT,
        last_name="Wolfeschlegelsteinhausenbergerdorff",
        first_name="Maximiliana-Alexandrina",
        address=Address(
            "123456 North Very Long Boulevard Name Extension", "Llanfairpwllgwyngyll", "PA", "19103"
        ),
    )
    coverage = Coverage(member_id="X" * 40, subscriber=long_patient)
    facts = paper(
        patient=long_patient,
        coverage=coverage,
        payer=Payer(name="The Very Long Name Of A Regional Behavioral Health Plan", payer_id="1"),
        billing_provider=replace(claim().billing_provider, name="A" * 80),
    )
    form = cms1500_form(facts)
    assert form.box2_patient_name == "WOLFESCHLEGELSTEINHAUSENBERG"
    assert len(form.box2_patient_name) == 28
    assert len(form.box4_insured_name) == 28
    assert len(form.box1a_insured_id) == 29
    assert form.box5_patient_address.street == "123456 NORTH VERY LONG BOULE"
    assert len(form.box11c_plan_name) <= 29
    assert len(form.box33_billing[0]) == 28


def test_box_31_shortens_a_long_name_but_keeps_the_credentials() -> None:
    long_name = Provider("Clinician-Hargreaves", "Dana", THERAPIST_NPI)
    form = cms1500_form(paper(rendering_provider=long_name, rendering_credentials="LCSW"))
    assert form.box31_signature == "D CLINICIAN-HARG LCSW"
    assert len(form.box31_signature) <= 21
    short = cms1500_form(paper(rendering_provider=Provider("Li", "Dana", THERAPIST_NPI)))
    assert short.box31_signature == "DANA LI LCSW"
    medium = cms1500_form(paper(rendering_provider=Provider("Clinician34", "Dana34", THERAPIST_NPI)))
    assert medium.box31_signature == "D CLINICIAN34 LCSW"


def test_missing_optional_data_leaves_its_box_empty() -> None:
    bare_patient = Person(last_name="Doe", first_name="Sam", date_of_birth=None, sex="U")
    facts = PaperClaimFacts(
        claim=claim(
            patient=bare_patient,
            coverage=Coverage(member_id="M1", subscriber=bare_patient),
            rendering_provider=None,
            billing_provider=replace(claim().billing_provider, taxonomy_code=""),
        )
    )
    form = cms1500_form(facts)
    assert form.box3_patient_birth == ""
    assert form.box3_patient_sex == ""
    assert form.box5_patient_address == AddressBox()
    assert form.box11_insured_group == ""
    assert form.box12_date == form.box31_date == ""
    assert form.box31_signature == ""
    assert form.box24_lines[0].rendering_npi == ""
    assert form.box33b_other_id == ""
    assert form.box33_phone == AddressBox()
    assert form.box19_additional == ""


def test_a_phone_that_is_not_ten_digits_prints_as_given() -> None:
    form = cms1500_form(paper(patient_phone="ext 12"))
    assert (form.box5_patient_address.phone_area, form.box5_patient_address.phone_number) == ("", "ext 12")
    assert cms1500_form(paper(patient_phone="+1 215 555 0142")).box5_patient_address.phone_area == "215"
