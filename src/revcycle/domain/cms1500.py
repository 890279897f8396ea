"""The CMS-1500 (02/12) paper claim: a claim's facts mapped onto the form's numbered boxes.

Some payers take claims only on paper (the "paper" billing route). The paper claim is the
NUCC's 1500 form, version 02/12: boxes 1 to 33 about the insured and the patient (top half)
and the physician or supplier (bottom half), with six service lines in box 24. This module
decides what goes in each box; :mod:`revcycle.adapters.cms1500_pdf` prints it on the form.

Conventions of the form (the NUCC 1500 instruction manual):

* names are ``LAST, FIRST``; dates of birth ``MM DD YYYY``, dates of service ``MM DD YY``;
* money is printed as dollars and cents in two fields, without a dollar sign or a comma;
* a nine-digit ZIP code keeps its hyphen; a telephone is area code + number;
* diagnoses are ICD-10-CM (box 21 indicator ``0``) without the implied decimal point,
  lettered A-L; box 24E points at them by letter (pointers 1, 2 are ``AB``);
* a claim of more than six service lines continues on further pages, each page repeating
  the claim's boxes; box 28 carries the claim's total on the last page only.

Every text is cut to the characters its box holds on the form (10 characters an inch), so a
long name never spills into the next box. Data the practice does not have leaves its box
empty: a paper claim prints what is known; the scrubber is what refuses what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from revcycle.domain.scrubber.facts import Address, ClaimFacts, ClaimLine, Person, Provider

__all__ = [
    "LINES_PER_PAGE",
    "PROGRAMS",
    "AddressBox",
    "Amount",
    "Cms1500Form",
    "Cms1500Page",
    "OtherInsurance",
    "PaperClaimFacts",
    "ServiceFacility",
    "ServiceLine",
    "cms1500_form",
    "diagnosis_letters",
    "split_amount",
]

LINES_PER_PAGE = 6
# Box 1: the kind of health insurance, from the payer's kind in the catalog.
PROGRAMS = ("medicare", "medicaid", "tricare", "champva", "group", "feca", "other")
_PROGRAM_OF_PAYER_KIND = {
    "medicare": "medicare",
    "medicaid": "medicaid",
    "tricare": "tricare",
    "champva": "champva",
    "commercial": "group",
    "medicare_advantage": "other",  # a private plan (HMO/PPO) paid for by Medicare
}
_RELATIONSHIPS = {
    "self": "self",
    "18": "self",
    "spouse": "spouse",
    "01": "spouse",
    "child": "child",
    "19": "child",
}
_LETTERS = "ABCDEFGHIJKL"
SIGNATURE_ON_FILE = "SIGNATURE ON FILE"

# Characters each box holds on the form (10 characters an inch).
W_ID = 29  # 1a, 11, 11c, 23, 9a, 9d
W_NAME = 28  # 2, 4, 9
W_STREET = 28
W_CITY = 22
W_ZIP = 12
W_REF = 18  # 22 original reference
W_NAME_17 = 24
W_ADDITIONAL = 48  # 19
W_FACILITY = 27  # 32
W_BILLING = 28  # 33
W_SIGNATURE = 21  # 31
W_ACCOUNT = 14  # 26
W_TAX_ID = 15  # 25
W_NPI = 11  # 17b, 24J, 32a, 33a
W_OTHER_ID = 17  # 32b, 33b


@dataclass(frozen=True)
class OtherInsurance:
    """Another plan the patient has (boxes 9, 9a, 9d; 11d answers YES)."""

    insured: Person
    policy_number: str  # the other insured's member id (or group) number
    plan_name: str


@dataclass(frozen=True)
class ServiceFacility:
    """Where the services were rendered (box 32), when not the billing provider's address."""

    name: str
    address: Address
    npi: str = ""


@dataclass(frozen=True)
class PaperClaimFacts:
    """What a paper claim prints beyond the scrubber's view of the claim."""

    claim: ClaimFacts
    payer_kind: str = "commercial"  # the catalog's kind -> box 1
    patient_phone: str = ""
    billing_phone: str = ""
    rendering_credentials: str = ""  # "LCSW", printed after the name in box 31
    other_insurance: OtherInsurance | None = None
    frequency: str = "1"  # 1 original; 7 replacement, 8 void -> box 22
    original_reference: str = ""  # the payer's claim control number, for 7 and 8
    prior_authorization: str = ""  # box 23; the authorization's number when empty
    service_facility: ServiceFacility | None = None
    signed_on: date | None = None  # the date printed in boxes 12 and 31
    paid_cents: int | None = None  # box 29: paid by the patient or another payer
    additional_information: str = ""  # box 19


@dataclass(frozen=True)
class Amount:
    """Money as the form prints it: dollars and cents in two fields (``"150"``, ``"00"``)."""

    dollars: str
    cents: str

    def __str__(self) -> str:
        return f"{self.dollars}.{self.cents}"


@dataclass(frozen=True)
class AddressBox:
    """A street, city, state, ZIP code and telephone, each in its own field."""

    street: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    phone_area: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class ServiceLine:
    """One row of box 24 (the shaded supplemental area above it stays empty)."""

    from_date: str  # 24A "MM DD YY"
    to_date: str
    place_of_service: str  # 24B
    procedure: str  # 24D CPT/HCPCS
    modifiers: tuple[str, ...]  # 24D, up to four
    pointers: str  # 24E, letters: "AB"
    charge: Amount  # 24F
    units: str  # 24G
    rendering_npi: str  # 24J
    emergency: str = ""  # 24C
    epsdt: str = ""  # 24H


@dataclass(frozen=True)
class Cms1500Form:
    """Every numbered box of the form for one claim (all its service lines; see :meth:`pages`)."""

    # Carrier block (top right): the payer the form is mailed to.
    payer_name: str
    box1_program: str  # one of PROGRAMS
    box1a_insured_id: str
    box2_patient_name: str
    box3_patient_birth: str  # "MM DD YYYY"
    box3_patient_sex: str  # "M" | "F" | ""
    box4_insured_name: str
    box5_patient_address: AddressBox
    box6_relationship: str  # self | spouse | child | other
    box7_insured_address: AddressBox
    box9_other_insured_name: str
    box9a_other_policy: str
    box9d_other_plan_name: str
    box10a_employment: bool
    box10b_auto_accident: bool
    box10b_state: str
    box10c_other_accident: bool
    box10d_claim_codes: str
    box11_insured_group: str
    box11a_insured_birth: str
    box11a_insured_sex: str
    box11b_other_claim_id: str
    box11c_plan_name: str
    box11d_another_plan: bool
    box12_patient_signature: str
    box12_date: str  # "MM DD YY"
    box13_insured_signature: str
    box14_current_illness: str
    box14_qualifier: str
    box15_other_date: str
    box15_qualifier: str
    box16_unable_to_work: tuple[str, str]
    box17_qualifier: str  # DN referring, DK ordering, DQ supervising
    box17_name: str
    box17a_other_id: str
    box17b_npi: str
    box18_hospitalization: tuple[str, str]
    box19_additional: str
    box20_outside_lab: bool
    box21_icd_indicator: str  # "0": ICD-10-CM
    box21_diagnoses: tuple[str, ...]  # A..L, without the decimal point
    box22_resubmission_code: str
    box22_original_ref: str
    box23_prior_authorization: str
    box24_lines: tuple[ServiceLine, ...]
    box25_tax_id: str
    box25_kind: str  # "EIN" | "SSN"
    box26_patient_account: str
    box27_accept_assignment: bool
    box28_total: Amount
    box29_amount_paid: Amount | None
    box31_signature: str
    box31_date: str
    box32_facility: tuple[str, ...]  # name, street, city state ZIP
    box32a_npi: str
    box32b_other_id: str
    box33_billing: tuple[str, ...]  # name, street, city state ZIP
    box33_phone: AddressBox  # area code and number only
    box33a_npi: str
    box33b_other_id: str  # "ZZ" + taxonomy code

    def pages(self) -> tuple[Cms1500Page, ...]:
        """The printed pages: six service lines each; the total on the last."""
        chunks = [
            self.box24_lines[start : start + LINES_PER_PAGE]
            for start in range(0, len(self.box24_lines), LINES_PER_PAGE)
        ] or [()]
        count = len(chunks)
        return tuple(
            Cms1500Page(
                number=index,
                count=count,
                lines=chunk,
                total=self.box28_total if index == count else None,
            )
            for index, chunk in enumerate(chunks, start=1)
        )


@dataclass(frozen=True)
class Cms1500Page:
    """One printed page: the claim's boxes with up to six of its lines."""

    number: int
    count: int
    lines: tuple[ServiceLine, ...]
    total: Amount | None  # box 28; None on a page the claim continues after

    @property
    def blank_rows(self) -> int:
        """Rows of box 24 left empty on this page."""
        return LINES_PER_PAGE - len(self.lines)

    @property
    def is_last(self) -> bool:
        return self.number == self.count


# --- the mapping -------------------------------------------------------------------------------


def cms1500_form(facts: PaperClaimFacts) -> Cms1500Form:
    """Fill the form's boxes from a claim's facts."""
    claim = facts.claim
    coverage = claim.coverage
    insured = coverage.subscriber
    patient = claim.patient
    diagnoses = tuple(_fit(code.replace(".", "").strip().upper(), 7) for code in claim.diagnosis_codes[:12])
    insured_address = patient.address if coverage.client_is_subscriber else insured.address
    other = facts.other_insurance
    supervisor = claim.supervising_provider
    signed = _service_date(facts.signed_on)
    return Cms1500Form(
        payer_name=_fit(claim.payer.name.upper(), W_BILLING),
        box1_program=_PROGRAM_OF_PAYER_KIND.get(facts.payer_kind.strip().lower(), "other"),
        box1a_insured_id=_fit(coverage.member_id, W_ID),
        box2_patient_name=_person_name(patient, W_NAME),
        box3_patient_birth=_birth_date(patient.date_of_birth),
        box3_patient_sex=_sex(patient.sex),
        box4_insured_name=_person_name(insured, W_NAME),
        box5_patient_address=_address_box(patient.address, facts.patient_phone),
        box6_relationship=_RELATIONSHIPS.get(coverage.relationship_to_subscriber.strip().lower(), "other"),
        box7_insured_address=_address_box(
            insured_address, facts.patient_phone if coverage.client_is_subscriber else ""
        ),
        box9_other_insured_name=_person_name(other.insured, W_NAME) if other else "",
        box9a_other_policy=_fit(other.policy_number, W_ID) if other else "",
        box9d_other_plan_name=_fit(other.plan_name.upper(), W_ID) if other else "",
        box10a_employment=False,
        box10b_auto_accident=False,
        box10b_state="",
        box10c_other_accident=False,
        box10d_claim_codes="",
        box11_insured_group=_fit(coverage.group_number, W_ID),
        box11a_insured_birth=_birth_date(insured.date_of_birth),
        box11a_insured_sex=_sex(insured.sex),
        box11b_other_claim_id="",
        box11c_plan_name=_fit(claim.payer.name.upper(), W_ID),
        box11d_another_plan=other is not None,
        box12_patient_signature=SIGNATURE_ON_FILE,
        box12_date=signed,
        box13_insured_signature=SIGNATURE_ON_FILE,
        box14_current_illness="",
        box14_qualifier="",
        box15_other_date="",
        box15_qualifier="",
        box16_unable_to_work=("", ""),
        box17_qualifier="DQ" if supervisor else "",
        box17_name=_provider_name(supervisor, W_NAME_17) if supervisor else "",
        box17a_other_id="",
        box17b_npi=_fit(supervisor.npi, W_NPI) if supervisor else "",
        box18_hospitalization=("", ""),
        box19_additional=_fit(facts.additional_information.upper(), W_ADDITIONAL),
        box20_outside_lab=False,
        box21_icd_indicator="0",
        box21_diagnoses=diagnoses,
        box22_resubmission_code=facts.frequency if facts.frequency in {"7", "8"} else "",
        box22_original_ref=_fit(facts.original_reference, W_REF) if facts.frequency in {"7", "8"} else "",
        box23_prior_authorization=_fit(_prior_authorization(facts), W_ID),
        box24_lines=tuple(_service_line(facts, line) for line in claim.lines),
        box25_tax_id=_fit(claim.billing_provider.tax_id.replace("-", "").strip(), W_TAX_ID),
        box25_kind="EIN",
        box26_patient_account=_fit(claim.claim_number, W_ACCOUNT),
        box27_accept_assignment=True,
        box28_total=split_amount(sum(line.charge_cents for line in claim.lines)),
        box29_amount_paid=split_amount(facts.paid_cents) if facts.paid_cents else None,
        box31_signature=_signature(claim.rendering_provider, facts.rendering_credentials),
        box31_date=signed,
        box32_facility=_facility(facts),
        box32a_npi=_fit(facts.service_facility.npi, W_NPI) if facts.service_facility else "",
        box32b_other_id="",
        box33_billing=_billing_block(claim),
        box33_phone=_address_box(None, facts.billing_phone),
        box33a_npi=_fit(claim.billing_provider.npi, W_NPI),
        box33b_other_id=(
            _fit("ZZ" + claim.billing_provider.taxonomy_code, W_OTHER_ID)
            if claim.billing_provider.taxonomy_code
            else ""
        ),
    )


def split_amount(cents: int) -> Amount:
    """Integer cents -> the form's dollars and cents fields (15000 -> "150", "00")."""
    if cents < 0:
        raise ValueError(f"a paper claim prints no negative amount: {cents} cents")
    dollars, rest = divmod(cents, 100)
    return Amount(str(dollars), f"{rest:02d}")


def diagnosis_letters(pointers: tuple[int, ...]) -> str:
    """Box 24E: 1-based pointers into box 21 as its letters ((1, 2) -> "AB"), at most four."""
    return "".join(_LETTERS[p - 1] for p in pointers if 1 <= p <= len(_LETTERS))[:4]


# --- box helpers -------------------------------------------------------------------------------


def _fit(text: str, width: int) -> str:
    """The text cut to the characters its box holds."""
    return " ".join(text.split())[:width].rstrip()


def _person_name(person: Person, width: int) -> str:
    if not (person.last_name.strip() or person.first_name.strip()):
        return ""
    return _fit(f"{person.last_name.strip()}, {person.first_name.strip()}".upper(), width)


def _provider_name(provider: Provider, width: int) -> str:
    return _fit(f"{provider.last_name.strip()}, {provider.first_name.strip()}".upper(), width)


def _signature(provider: Provider | None, credentials: str) -> str:
    """Box 31: the clinician's name and credentials; a long name is shortened, never the credentials."""
    if provider is None:
        return ""
    first, last = provider.first_name.strip().upper(), provider.last_name.strip().upper()
    suffix = f" {credentials.strip().upper()}" if credentials.strip() else ""
    for name in (f"{first} {last}", f"{first[:1]} {last}"):
        if len(name) + len(suffix) <= W_SIGNATURE:
            return name + suffix
    return _fit(f"{first[:1]} {last}", W_SIGNATURE - len(suffix)) + suffix


def _birth_date(value: date | None) -> str:
    return value.strftime("%m %d %Y") if value else ""


def _service_date(value: date | None) -> str:
    return value.strftime("%m %d %y") if value else ""


def _sex(value: str) -> str:
    return value.strip().upper() if value.strip().upper() in {"M", "F"} else ""


def _zip_code(value: str) -> str:
    digits = value.replace("-", "").strip()
    if len(digits) == 9 and digits.isdigit():
        return f"{digits[:5]}-{digits[5:]}"
    return _fit(value, W_ZIP)


def _phone(value: str) -> tuple[str, str]:
    digits = "".join(char for char in value if char.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        return "", _fit(value, 10)
    return digits[:3], f"{digits[3:6]}-{digits[6:]}"


def _address_box(address: Address | None, phone: str) -> AddressBox:
    area, number = _phone(phone)
    if address is None:
        return AddressBox(phone_area=area, phone_number=number)
    street = " ".join(part.strip() for part in (address.line1, address.line2) if part.strip())
    return AddressBox(
        street=_fit(street.upper(), W_STREET),
        city=_fit(address.city.upper(), W_CITY),
        state=_fit(address.state.upper(), 2),
        zip_code=_zip_code(address.postal_code),
        phone_area=area,
        phone_number=number,
    )


def _place_lines(name: str, address: Address, width: int) -> tuple[str, ...]:
    street = " ".join(part.strip() for part in (address.line1, address.line2) if part.strip())
    city = f"{address.city.strip()} {address.state.strip()} {_zip_code(address.postal_code)}".strip()
    if address.city.strip():
        city = f"{address.city.strip()}, {address.state.strip()} {_zip_code(address.postal_code)}".strip()
    return tuple(_fit(text.upper(), width) for text in (name, street, city))


def _billing_block(claim: ClaimFacts) -> tuple[str, ...]:
    billing = claim.billing_provider
    return _place_lines(billing.name, billing.address, W_BILLING)


def _facility(facts: PaperClaimFacts) -> tuple[str, ...]:
    facility = facts.service_facility
    if facility is None:
        return ()
    return _place_lines(facility.name, facility.address, W_FACILITY)


def _prior_authorization(facts: PaperClaimFacts) -> str:
    if facts.prior_authorization.strip():
        return facts.prior_authorization.strip()
    authorization = facts.claim.authorization
    return authorization.number.strip() if authorization else ""


def _service_line(facts: PaperClaimFacts, line: ClaimLine) -> ServiceLine:
    claim = facts.claim
    served = _service_date(claim.line_service_on(line))
    rendering = claim.rendering_provider
    return ServiceLine(
        from_date=served,
        to_date=served,
        place_of_service=claim.line_place_of_service(line),
        procedure=_fit(line.procedure_code.upper(), 6),
        modifiers=tuple(_fit(mod.upper(), 2) for mod in line.modifiers if mod.strip())[:4],
        pointers=diagnosis_letters(line.diagnosis_pointers),
        charge=split_amount(line.charge_cents),
        units=str(line.units),
        rendering_npi=_fit(rendering.npi, W_NPI) if rendering else "",
    )
