"""A clean claim to start from, and a small code set: each test changes one thing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from revcycle.domain.npi import make_npi
from revcycle.domain.scrubber import (
    Address,
    BillingProvider,
    ClaimFacts,
    ClaimLine,
    Coverage,
    Icd10Release,
    Icd10ReleaseSet,
    NcciTable,
    Payer,
    Person,
    Provider,
    ScrubContext,
)

SERVICE_ON = date(2026, 5, 4)
TODAY = date(2026, 5, 11)

GROUP_NPI = make_npi("123456789")  # 1234567893, the CMS worked example
THERAPIST_NPI = make_npi("198765432")
SUPERVISOR_NPI = make_npi("155555555")

FY2026 = Icd10Release(
    name="FY2026 (test)",
    valid_from=date(2025, 10, 1),
    valid_to=date(2026, 9, 30),
    billable=frozenset({"F411", "F329", "F4310", "F4312", "Z658"}),
    all_codes=frozenset({"F41", "F411", "F32", "F329", "F43", "F431", "F4310", "F4312", "Z65", "Z658"}),
)
FY2025 = Icd10Release(
    name="FY2025 (test)",
    valid_from=date(2024, 10, 1),
    valid_to=date(2025, 9, 30),
    billable=frozenset({"F411", "F329", "F4310"}),
    all_codes=frozenset({"F41", "F411", "F32", "F329", "F43", "F431", "F4310"}),
)
POS = frozenset({"02", "03", "10", "11", "12", "53", "99"})
# A loaded NCCI table with no pair among the clean claim's codes (no table at all is a note).
NO_PAIRS = NcciTable("2026Q2 practitioner (test)", date(2026, 4, 1), date(2026, 6, 30))
CONTEXT = ScrubContext(
    icd10=Icd10ReleaseSet((FY2025, FY2026)), place_of_service_codes=POS, ncci_tables=(NO_PAIRS,)
)

PATIENT = Person(
    last_name="Rivera",
    first_name="Ana",
    date_of_birth=date(1990, 3, 14),
    sex="F",
    address=Address("12 Elm St", "Philadelphia", "PA", "19103"),
)


def psychotherapy(**changes: Any) -> ClaimLine:
    """90837 for 55 minutes, $160, pointing at the first diagnosis."""
    line = ClaimLine(procedure_code="90837", charge_cents=16000, diagnosis_pointers=(1,), minutes=55)
    return replace(line, **changes)


def clean_claim(**changes: Any) -> ClaimFacts:
    """A claim every edit passes without a word; ``changes`` replace its fields."""
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
            effective_on=date(2026, 1, 1),
        ),
        payer=Payer(name="Aetna", payer_id="60054", requires_prior_auth=False, filing_limit_days=90),
        diagnosis_codes=("F41.1",),
        lines=(psychotherapy(),),
        today=TODAY,
        rendering_provider=Provider("Okafor", "Grace", THERAPIST_NPI, "101YP2500X"),
    )
    return replace(facts, **changes)


def codes(problems: list[Any] | tuple[Any, ...]) -> list[str]:
    return [problem.code for problem in problems]
