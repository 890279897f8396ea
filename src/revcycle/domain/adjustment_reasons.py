"""Adjustment reasons: what each 835 adjustment (CAS group + CARC) means and how it posts.

An 835 explains every dollar the payer did not pay with a CAS adjustment: a *group* saying
who carries it and a *claim adjustment reason code* (CARC) saying why. Remark codes (RARC,
the LQ segment) add detail. The code lists are X12's and are not shipped: codes are kept as
text, and a code this table does not know is never refused, only explained as unknown. The
explanations here are Revcycle's own words, for a billing specialist in behavioral health.

The groups:

* CO, contractual obligation: the practice carries it and may not bill the client;
* PI, payer-initiated reduction: the same for the client, without a contract behind it;
* PR, patient responsibility: the client owes it (deductible, coinsurance, copay, or a
  service the plan does not cover);
* OA, other adjustment: neither contractual nor the client's (e.g. a prior payer paid it);
* CR, correction or reversal: 4010's group, still sent by a few payers.

How an adjustment posts (:func:`classify`), first rule that applies:

1. CR -> ``other`` (a correction; the posting is the reversal's business).
2. PR -> ``patient``, with the patient reason: PR-1 deductible, PR-2 coinsurance, PR-3
   copay, anything else non_covered. A PR code that is a denial reason (PR-27, PR-96, PR-204)
   still posts to the client, and :attr:`Classification.counts_as_denial` is true.
3. CARC 100 (the payer paid the client instead of the practice) -> ``patient``, reason
   paid_to_patient, whatever the group: the client holds the practice's money.
4. A group outside CO, PI, OA, PR, CR -> ``denial``: nothing posts on a group we cannot read;
   a person looks at it.
5. A known denial reason (CO-97 bundling, CO-50 medical necessity, OA-18 duplicate ...) ->
   ``denial``: the payer refused to pay that amount. No ledger posting; the amount stays on
   the insurance balance and the denial is kept for follow-up (fix, appeal or write off).
6. CARC 23 (the prior payer's adjudication, on a secondary claim) -> ``other``.
7. A known reason that is not a denial: CO or PI -> ``contractual`` (CO-45 above the fee
   schedule, CO-253 sequestration, CO-131 negotiated discount); OA -> ``other``.
8. An unknown CARC: when the line was paid something, CO or PI -> ``contractual`` and OA ->
   ``other`` (a reduction on a paid line is most often the contract); when the line was paid
   nothing -> ``denial``, so a person reads the code before anything is written down. The sign
   of ``line_paid_cents`` does not matter: a reversal's line (negative) classifies as the
   line it reverses.

Why CO-59 and CO-97 are not contractual although they carry group CO: they say the payer
bundled or reduced a service under its multiple-procedure rules (90785 interactive complexity
folded into 90837, 90833 with an E/M missing modifier 25). That is often a coding fix away
from being paid, so writing it down as contract would hide money. CO-253 (sequestration, the
2% federal reduction) and CO-237 (a regulatory penalty) are not appealable and are posted as
contractual: they reduce every claim the payer pays, like the fee schedule.

The default action of a denial is the reason's; a reason whose usual answer is to bill the
client (CO-96, CO-204 ...) becomes write_off, since a denial is never PR and CO, PI and OA say
the client may not be billed. A denial that comes from an unknown code or an unreadable group
is fix_and_resubmit: a person reads it first. Contractual and other adjustments need no
action (``none``); patient responsibility is ``bill_patient``. The category of a reason is its
denial category; reasons that never deny (1, 2, 3, 45, 253 ...) are ``other``, but for 23
(coordination of benefits).

Appeal deadlines are not here: they come from the payer's appeal limit (issue 7).
Pure: no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

__all__ = [
    "REASONS",
    "REMARKS",
    "Classification",
    "DefaultAction",
    "DenialCategory",
    "Disposition",
    "PatientReason",
    "ReasonInfo",
    "RemarkInfo",
    "classify",
    "normalize_code",
    "reason_info",
    "remark_info",
]


class DenialCategory(StrEnum):
    """Why a payer refused to pay, grouped the way denials are worked and reported."""

    ELIGIBILITY_COVERAGE = "eligibility_coverage"
    AUTHORIZATION = "authorization"
    CODING = "coding"
    MEDICAL_NECESSITY = "medical_necessity"
    TIMELY_FILING = "timely_filing"
    DUPLICATE = "duplicate"
    COORDINATION_OF_BENEFITS = "coordination_of_benefits"
    MISSING_INFORMATION = "missing_information"
    NON_COVERED = "non_covered"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The category as a person reads it ("Eligibility / coverage")."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: Mapping[DenialCategory, str] = MappingProxyType(
    {
        DenialCategory.ELIGIBILITY_COVERAGE: "Eligibility / coverage",
        DenialCategory.AUTHORIZATION: "Authorization",
        DenialCategory.CODING: "Coding",
        DenialCategory.MEDICAL_NECESSITY: "Medical necessity",
        DenialCategory.TIMELY_FILING: "Timely filing",
        DenialCategory.DUPLICATE: "Duplicate",
        DenialCategory.COORDINATION_OF_BENEFITS: "Coordination of benefits",
        DenialCategory.MISSING_INFORMATION: "Missing information",
        DenialCategory.NON_COVERED: "Non-covered",
        DenialCategory.OTHER: "Other",
    }
)


class DefaultAction(StrEnum):
    """What a biller usually does next about an adjustment."""

    FIX_AND_RESUBMIT = "fix_and_resubmit"
    APPEAL = "appeal"
    BILL_PATIENT = "bill_patient"
    WRITE_OFF = "write_off"
    NONE = "none"

    @property
    def label(self) -> str:
        """The action as a person reads it ("Fix and resubmit")."""
        return self.value.replace("_", " ").capitalize()


class PatientReason(StrEnum):
    """Why the client owes a patient-responsibility amount."""

    DEDUCTIBLE = "deductible"  # PR-1
    COINSURANCE = "coinsurance"  # PR-2
    COPAY = "copay"  # PR-3
    NON_COVERED = "non_covered"  # any other PR
    PAID_TO_PATIENT = "paid_to_patient"  # CARC 100: the payer sent the money to the client


class Disposition(StrEnum):
    """How one adjustment posts to the ledger."""

    CONTRACTUAL = "contractual"  # adjustment:contractual, the contract's write-down
    PATIENT = "patient"  # moved from ar:insurance to ar:patient
    DENIAL = "denial"  # no posting: the payer refused it, kept for follow-up
    OTHER = "other"  # adjustment:other (a prior payer paid it, a correction)


@dataclass(frozen=True, slots=True)
class ReasonInfo:
    """One claim adjustment reason code (CARC) in our words.

    ``category`` and ``default_action`` are what the code means as a denial; ``known`` is
    false for a code outside our list (then the category is other)."""

    code: str
    explanation: str
    category: DenialCategory
    default_action: DefaultAction
    is_denial_reason: bool
    known: bool = True


@dataclass(frozen=True, slots=True)
class RemarkInfo:
    """One remittance advice remark code (RARC) in our words."""

    code: str
    explanation: str
    known: bool = True


@dataclass(frozen=True, slots=True)
class Classification:
    """How one CAS adjustment (group + CARC) posts, and what to do about it."""

    group: str  # normalized CAS01
    carc: str  # normalized CAS02
    disposition: Disposition
    category: DenialCategory
    default_action: DefaultAction
    patient_reason: PatientReason | None  # set exactly when the disposition is patient
    reason: ReasonInfo

    @property
    def counts_as_denial(self) -> bool:
        """True when the payer refused to pay this amount: a denial, or a patient
        responsibility whose reason is a denial (PR-27 coverage ended, PR-204 not a benefit)."""
        if self.disposition is Disposition.DENIAL:
            return True
        return self.disposition is Disposition.PATIENT and self.reason.is_denial_reason


_C = DenialCategory
_A = DefaultAction


def _reason(
    code: str, category: DenialCategory, action: DefaultAction, explanation: str, *, denial: bool = True
) -> ReasonInfo:
    return ReasonInfo(code, explanation, category, action, is_denial_reason=denial)


# The CARCs a behavioral-health practice meets most, in code order (numeric, then lettered).
_REASON_LIST: tuple[ReasonInfo, ...] = (
    # -- the client's share and the contract: never a denial
    _reason(
        "1",
        _C.OTHER,
        _A.BILL_PATIENT,
        "Deductible: the client has not yet met the plan's deductible, so this part of the "
        "allowed amount is the client's to pay.",
        denial=False,
    ),
    _reason(
        "2",
        _C.OTHER,
        _A.BILL_PATIENT,
        "Coinsurance: the client's percentage share of the allowed amount after the deductible.",
        denial=False,
    ),
    _reason(
        "3",
        _C.OTHER,
        _A.BILL_PATIENT,
        "Copay: the flat amount the client owes per visit under the plan; often collected at the session.",
        denial=False,
    ),
    _reason(
        "23",
        _C.COORDINATION_OF_BENEFITS,
        _A.NONE,
        "On a secondary claim: the part the primary payer already paid or adjusted. Nothing "
        "to collect from this payer for it.",
        denial=False,
    ),
    _reason(
        "24",
        _C.OTHER,
        _A.NONE,
        "The service is paid through a capitation or managed-care arrangement, not per "
        "claim; the write-down is part of that agreement.",
        denial=False,
    ),
    _reason(
        "44",
        _C.OTHER,
        _A.NONE,
        "A discount the payer takes under the contract for paying promptly.",
        denial=False,
    ),
    _reason(
        "45",
        _C.OTHER,
        _A.NONE,
        "The amount billed above the payer's allowed amount for the service. This is the "
        "contract at work, not a loss; the client may not be billed for it when in network.",
        denial=False,
    ),
    _reason(
        "100",
        _C.OTHER,
        _A.BILL_PATIENT,
        "The payer sent this payment to the client instead of the practice (common out of "
        "network). Collect it from the client.",
        denial=False,
    ),
    _reason(
        "131",
        _C.OTHER,
        _A.NONE,
        "A discount negotiated for this particular claim (for example through a repricing "
        "network); part of the agreed payment.",
        denial=False,
    ),
    _reason(
        "237",
        _C.OTHER,
        _A.NONE,
        "A reduction required by law or regulation (for example a Medicare quality-program "
        "penalty). It cannot be appealed claim by claim.",
        denial=False,
    ),
    _reason(
        "253",
        _C.OTHER,
        _A.NONE,
        "Sequestration: the across-the-board cut to Medicare payments set by federal law "
        "(about 2%). Expected on every Medicare payment; not appealable.",
        denial=False,
    ),
    # -- coding
    _reason(
        "4",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "A modifier is missing or does not fit the procedure (for example a telehealth "
        "modifier 95 or a licence-level modifier such as HO the payer requires). Correct "
        "the modifiers and resubmit.",
    ),
    _reason(
        "5",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The place of service does not fit the procedure, often telehealth billed with "
        "office POS 11 or the wrong telehealth POS (02 or 10). Correct it and resubmit.",
    ),
    _reason(
        "6",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The procedure does not fit the client's age (for example an adolescent code for an "
        "adult). Check the date of birth on file and the code.",
    ),
    _reason(
        "8",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The procedure does not fit the rendering clinician's type or taxonomy (for example "
        "a prescriber-only code billed under a counselor). Check the code and the taxonomy "
        "sent.",
    ),
    _reason(
        "11",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The diagnosis does not support the procedure billed. Check the diagnosis codes and "
        "their pointers on the line.",
    ),
    _reason(
        "58",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The payer considers the place of service wrong for this service. Check where the "
        "session happened (office, home, telehealth) and the POS code.",
    ),
    _reason(
        "59",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "Reduced or denied under the payer's multiple-procedure rules for services on the "
        "same day. Often a missing modifier; review before writing anything off.",
    ),
    _reason(
        "97",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "Bundled: the payer counts this service as included in another one it already paid "
        "(for example an add-on with its base code). Check modifiers such as 25 or 59 and "
        "resubmit, or appeal.",
    ),
    _reason(
        "107",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The service it depends on is not on the claim (for example add-on 90785 or 90833 "
        "without the base psychotherapy or E/M code). Bill them together.",
    ),
    _reason(
        "146",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The diagnosis code was not valid on the date of service (retired, or not specific "
        "enough). Use a billable ICD-10-CM code in force on that date.",
    ),
    _reason(
        "167",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The plan does not cover this diagnosis (for example a Z code as the primary "
        "diagnosis). Resubmit if a covered diagnosis is documented; otherwise write off.",
    ),
    _reason(
        "181",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The procedure code was not valid on the date of service. Use the code in force on that date.",
    ),
    _reason(
        "182",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "A modifier was not valid on the date of service (for example GT after the payer "
        "moved to 95). Correct it and resubmit.",
    ),
    _reason(
        "234",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "The payer does not pay this procedure on its own; it is paid only as part of "
        "another service. Check whether it was billed with the right companion code.",
    ),
    _reason(
        "236",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "This code pair is not allowed on the same day under the NCCI edits (for example a "
        "diagnostic evaluation with psychotherapy). Use a modifier only if documentation "
        "supports separate services.",
    ),
    _reason(
        "B15",
        _C.CODING,
        _A.FIX_AND_RESUBMIT,
        "This service needs a qualifying service that has not been paid (an add-on whose "
        "base service is missing or denied). Resolve the base service first.",
    ),
    # -- eligibility and coverage
    _reason(
        "26",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "The session took place before the client's coverage started. Verify eligibility "
        "and bill the plan in force then, or the client if there was none.",
    ),
    _reason(
        "27",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "The session took place after the client's coverage ended. Ask the client for "
        "current insurance and rebill, or bill the client if uninsured.",
    ),
    _reason(
        "31",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "The payer cannot find the client as a member. Check the member id, name and date "
        "of birth against the insurance card and resubmit.",
    ),
    _reason(
        "109",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "This payer is not responsible for the service; send the claim to the right one "
        "(often a behavioral-health carve-out or a Medicare Advantage plan).",
    ),
    _reason(
        "177",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "The client did not meet the plan's eligibility requirements for this service. "
        "Verify eligibility and the plan in force.",
    ),
    _reason(
        "200",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "The session fell in a gap in the client's coverage. Verify the dates and bill "
        "other coverage or the client.",
    ),
    _reason(
        "B9",
        _C.ELIGIBILITY_COVERAGE,
        _A.FIX_AND_RESUBMIT,
        "The client is enrolled in hospice; related services are billed to the hospice, not to this payer.",
    ),
    # -- authorization
    _reason(
        "15",
        _C.AUTHORIZATION,
        _A.FIX_AND_RESUBMIT,
        "The authorization number is missing, invalid, or belongs to another service or "
        "clinician. Correct it on the claim and resubmit.",
    ),
    _reason(
        "39",
        _C.AUTHORIZATION,
        _A.APPEAL,
        "The payer refused the authorization when it was requested. Appeal with clinical "
        "documentation if the care is needed.",
    ),
    _reason(
        "197",
        _C.AUTHORIZATION,
        _A.APPEAL,
        "No prior authorization was on file for this service. Ask for a retroactive "
        "authorization, then appeal or resubmit with it.",
    ),
    _reason(
        "198",
        _C.AUTHORIZATION,
        _A.APPEAL,
        "The authorization's visits or units were used up, or its dates had passed. Request "
        "an extension covering the session and appeal.",
    ),
    _reason(
        "243",
        _C.AUTHORIZATION,
        _A.APPEAL,
        "The service was not authorized by the client's network or primary care provider. "
        "Get the referral or authorization and appeal.",
    ),
    _reason(
        "284",
        _C.AUTHORIZATION,
        _A.FIX_AND_RESUBMIT,
        "The authorization number is valid but does not cover the services billed (another "
        "code, clinician or level of care). Check what was authorized.",
    ),
    _reason(
        "288",
        _C.AUTHORIZATION,
        _A.FIX_AND_RESUBMIT,
        "The plan requires a referral that was not on file. Get the referral and resubmit.",
    ),
    # -- medical necessity
    _reason(
        "50",
        _C.MEDICAL_NECESSITY,
        _A.APPEAL,
        "The payer judged the service not medically necessary. Appeal with the treatment "
        "plan, progress notes and symptom measures.",
    ),
    _reason(
        "150",
        _C.MEDICAL_NECESSITY,
        _A.APPEAL,
        "The payer says the documentation does not support the level of service billed (for "
        "example 90837 paid as 90834). Appeal with the note if the time and content support "
        "it.",
    ),
    _reason(
        "151",
        _C.MEDICAL_NECESSITY,
        _A.APPEAL,
        "The payer says the documentation does not support this many sessions or this "
        "frequency. Appeal with the treatment plan showing why.",
    ),
    _reason(
        "152",
        _C.MEDICAL_NECESSITY,
        _A.APPEAL,
        "The payer says the documentation does not support the length of the service (for "
        "example the session's start and stop times). Appeal with the note.",
    ),
    _reason(
        "186",
        _C.MEDICAL_NECESSITY,
        _A.APPEAL,
        "The payer paid a different level of care than billed (for example residential "
        "priced as intensive outpatient). Appeal with the clinical criteria met.",
    ),
    # -- timely filing
    _reason(
        "29",
        _C.TIMELY_FILING,
        _A.APPEAL,
        "The claim reached the payer after its filing limit. Appeal only with proof of a "
        "timely first submission (clearinghouse or portal acceptance); otherwise write off.",
    ),
    # -- duplicate
    _reason(
        "18",
        _C.DUPLICATE,
        _A.NONE,
        "An exact duplicate of a claim or line the payer already has. Check that the "
        "original was paid; nothing to resubmit.",
    ),
    _reason(
        "B20",
        _C.DUPLICATE,
        _A.APPEAL,
        "The payer says another provider already billed this service for the same client "
        "and date. Check the records; appeal if the session was ours.",
    ),
    # -- coordination of benefits
    _reason(
        "19",
        _C.COORDINATION_OF_BENEFITS,
        _A.FIX_AND_RESUBMIT,
        "The payer believes this is a work-related injury, so workers' compensation pays "
        "first. Bill that carrier, or have the client tell the plan it is not work-related.",
    ),
    _reason(
        "22",
        _C.COORDINATION_OF_BENEFITS,
        _A.FIX_AND_RESUBMIT,
        "The payer believes another plan is primary. Confirm the order of coverage with the "
        "client and bill the primary first.",
    ),
    _reason(
        "129",
        _C.COORDINATION_OF_BENEFITS,
        _A.FIX_AND_RESUBMIT,
        "The prior payer's information on this secondary claim looks wrong. Check the "
        "primary's paid and adjusted amounts and resubmit.",
    ),
    _reason(
        "B11",
        _C.COORDINATION_OF_BENEFITS,
        _A.NONE,
        "This payer forwarded the claim to the payer it believes is responsible. Follow up "
        "with that payer rather than resubmitting here.",
    ),
    # -- missing information
    _reason(
        "16",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "The claim is missing information or has a billing error; the remark codes say "
        "what. Correct it and resubmit (usually as a new claim, not an appeal).",
    ),
    _reason(
        "125",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "A submission or billing error; the remark codes name the field. Correct it and resubmit.",
    ),
    _reason(
        "140",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "The member id and the client's name do not match the payer's records. Check the "
        "spelling and id against the card and resubmit.",
    ),
    _reason(
        "206",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "An NPI (billing, rendering or supervising) is missing from the claim. Add it and resubmit.",
    ),
    _reason(
        "226",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "The payer asked the practice for information (often session notes) and did not get "
        "it in time or in full. Send it and ask for reprocessing.",
    ),
    _reason(
        "227",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "The payer asked the client for information (often a coordination-of-benefits or "
        "accident questionnaire) and did not get it. Ask the client to answer, then "
        "resubmit.",
    ),
    _reason(
        "252",
        _C.MISSING_INFORMATION,
        _A.FIX_AND_RESUBMIT,
        "The payer needs an attachment or documentation to decide. Send it with a "
        "resubmission or through the payer's attachment process.",
    ),
    _reason(
        "B12",
        _C.MISSING_INFORMATION,
        _A.APPEAL,
        "The payer found no documentation of the service in the records it reviewed. Appeal "
        "with the signed session note.",
    ),
    # -- non-covered
    _reason(
        "35",
        _C.NON_COVERED,
        _A.BILL_PATIENT,
        "The client has reached the plan's lifetime maximum for this benefit.",
    ),
    _reason(
        "96",
        _C.NON_COVERED,
        _A.BILL_PATIENT,
        "A charge the plan does not cover; the remark codes say why. The client may be "
        "billed only when the group is PR or they agreed in writing.",
    ),
    _reason(
        "119",
        _C.NON_COVERED,
        _A.BILL_PATIENT,
        "The client has used the plan's maximum for the period (for example a yearly limit "
        "of therapy visits).",
    ),
    _reason(
        "170",
        _C.NON_COVERED,
        _A.WRITE_OFF,
        "The payer does not pay this type of clinician for the service (for example a "
        "licence type not enrolled with that plan). Rebill only if another eligible "
        "clinician rendered it.",
    ),
    _reason(
        "204",
        _C.NON_COVERED,
        _A.BILL_PATIENT,
        "The service is not a benefit of the client's current plan (for example couples "
        "therapy without the client's diagnosis).",
    ),
    _reason(
        "242",
        _C.NON_COVERED,
        _A.BILL_PATIENT,
        "The service was not given by an in-network provider and the plan has no "
        "out-of-network benefit for it.",
    ),
    # -- other
    _reason(
        "133",
        _C.OTHER,
        _A.NONE,
        "The payer has put this line on hold for further review; it is neither paid nor "
        "denied. Follow up if no decision arrives.",
    ),
    _reason(
        "185",
        _C.OTHER,
        _A.FIX_AND_RESUBMIT,
        "The rendering clinician is not eligible to provide the service billed (not "
        "credentialed with the payer or for this service). Check enrollment.",
    ),
    _reason(
        "A1",
        _C.OTHER,
        _A.FIX_AND_RESUBMIT,
        "A denial without a specific reason; the remark codes carry the explanation.",
    ),
    _reason(
        "B7",
        _C.OTHER,
        _A.FIX_AND_RESUBMIT,
        "The clinician was not certified or enrolled with the payer on the date of service. "
        "Resubmit once enrollment is effective for that date, or write off.",
    ),
)

REASONS: Mapping[str, ReasonInfo] = MappingProxyType({r.code: r for r in _REASON_LIST})


def _remark(code: str, explanation: str) -> RemarkInfo:
    return RemarkInfo(code, explanation)


# The remark codes (RARC, LQ*HE) that come most often with the reasons above.
_REMARK_LIST: tuple[RemarkInfo, ...] = (
    _remark("M15", "The payer bundled separately billed services as parts of one procedure."),
    _remark("M51", "A procedure code is missing, incomplete or invalid."),
    _remark("M62", "The treatment authorization number is missing, incomplete or invalid."),
    _remark("M76", "A diagnosis is missing, incomplete or invalid."),
    _remark("M80", "Not paid when done at the same session or date as a service already paid."),
    _remark("M86", "A same or similar service was already paid within the payer's time frame."),
    _remark("M127", "The payer needs the medical record (session note) for this service."),
    _remark(
        "MA01",
        "Appeal rights: if you disagree with the decision, you may appeal within the stated time limit.",
    ),
    _remark(
        "MA04",
        "A secondary claim cannot be considered without the primary payer's identity or payment details.",
    ),
    _remark(
        "MA18",
        "The claim was also forwarded to the client's supplemental insurer (a crossover); "
        "do not bill that payer separately.",
    ),
    _remark("MA63", "The principal diagnosis is missing, incomplete or invalid."),
    _remark(
        "MA130",
        "The claim could not be processed and has no appeal rights: send a new, corrected claim.",
    ),
    _remark("N4", "The prior payer's explanation of benefits is missing, incomplete or invalid."),
    _remark("N19", "The procedure is incidental to the main procedure and not paid apart."),
    _remark("N20", "Not payable together with another service given the same day."),
    _remark("N30", "The client is not eligible for this service."),
    _remark("N54", "The claim does not match what was authorized."),
    _remark("N56", "The procedure code is not valid for the service or the date billed."),
    _remark("N95", "This provider type or specialty may not bill this service."),
    _remark("N115", "Decided under a Local Coverage Determination (a Medicare contractor's rule)."),
    _remark("N130", "See the plan's benefit documents for the limits or exclusions on this service."),
    _remark("N211", "This decision cannot be appealed."),
    _remark("N290", "The rendering provider's primary id (NPI) is missing, incomplete or invalid."),
    _remark("N362", "The days or units billed are more than the payer accepts."),
    _remark("N386", "Decided under a National Coverage Determination (a Medicare-wide rule)."),
    _remark(
        "N479",
        "The explanation of benefits from the other payer (coordination of benefits or "
        "Medicare secondary) is missing.",
    ),
    _remark("N519", "The combination of modifiers is not valid."),
    _remark("N522", "A duplicate of a claim processed, or to be processed, as a crossover claim."),
    _remark("N657", "Bill this service with the code meant for it."),
    _remark("N822", "A procedure modifier is missing."),
)

REMARKS: Mapping[str, RemarkInfo] = MappingProxyType({r.code: r for r in _REMARK_LIST})

_PATIENT_REASONS: Mapping[str, PatientReason] = MappingProxyType(
    {
        "1": PatientReason.DEDUCTIBLE,
        "2": PatientReason.COINSURANCE,
        "3": PatientReason.COPAY,
    }
)
_PAID_TO_PATIENT = "100"
_PRIOR_PAYER = "23"
_WRITE_DOWN_GROUPS = frozenset({"CO", "PI"})  # the practice carries it, with or without contract


def normalize_code(code: str) -> str:
    """A CARC or RARC as the tables key it: trimmed, upper case, a number without leading
    zeros ("045" -> "45"). Never raises."""
    cleaned = code.strip().upper()
    if cleaned.isascii() and cleaned.isdigit():
        return str(int(cleaned))
    return cleaned


def reason_info(carc: str) -> ReasonInfo:
    """What a CARC means; a code outside the list is explained as unknown (category other,
    ``known`` false) and never refused."""
    code = normalize_code(carc)
    found = REASONS.get(code)
    if found is not None:
        return found
    return ReasonInfo(
        code=code,
        explanation=f"Reason code {code or '(blank)'} (not in Revcycle's list).",
        category=DenialCategory.OTHER,
        # A person must read an unknown denial; correcting the claim is the commoner way out.
        default_action=DefaultAction.FIX_AND_RESUBMIT,
        is_denial_reason=False,
        known=False,
    )


def remark_info(rarc: str) -> RemarkInfo:
    """What a RARC means; a code outside the list is explained as unknown, never refused."""
    code = normalize_code(rarc)
    found = REMARKS.get(code)
    if found is not None:
        return found
    return RemarkInfo(code, f"Remark code {code or '(blank)'} (not in Revcycle's list).", False)


def classify(group: str, carc: str, *, line_paid_cents: int) -> Classification:
    """How one CAS adjustment posts (the rules are in the module docstring).

    ``line_paid_cents`` is what the payer paid on the line (or the claim, for a claim-level
    adjustment); it decides only for a CARC outside the list. Never raises."""
    return _classified(group, carc, paid=line_paid_cents != 0)


@lru_cache(maxsize=4096)  # a few dozen (group, code) pairs make a whole 835's adjustments
def _classified(group: str, carc: str, *, paid: bool) -> Classification:
    group_code = group.strip().upper()
    reason = reason_info(carc)
    disposition = _disposition(group_code, reason, paid=paid)
    return Classification(
        group=group_code,
        carc=reason.code,
        disposition=disposition,
        category=reason.category,
        default_action=_action(disposition, reason),
        patient_reason=_patient_reason(reason) if disposition is Disposition.PATIENT else None,
        reason=reason,
    )


def _disposition(group: str, reason: ReasonInfo, *, paid: bool) -> Disposition:
    if group == "CR":
        return Disposition.OTHER
    if group == "PR" or reason.code == _PAID_TO_PATIENT:
        return Disposition.PATIENT
    if group not in _WRITE_DOWN_GROUPS and group != "OA":
        return Disposition.DENIAL
    if reason.is_denial_reason:
        return Disposition.DENIAL
    if reason.code == _PRIOR_PAYER:
        return Disposition.OTHER
    if not reason.known and not paid:
        return Disposition.DENIAL
    return Disposition.CONTRACTUAL if group in _WRITE_DOWN_GROUPS else Disposition.OTHER


def _action(disposition: Disposition, reason: ReasonInfo) -> DefaultAction:
    if disposition is Disposition.PATIENT:
        return DefaultAction.BILL_PATIENT
    if disposition is not Disposition.DENIAL:
        return DefaultAction.NONE
    if not reason.is_denial_reason:
        # An unknown code on an unpaid line, or a group we cannot read: a person reads it.
        return DefaultAction.FIX_AND_RESUBMIT
    if reason.default_action is DefaultAction.BILL_PATIENT:
        # A denial is never PR (PR posts to the client): CO, PI and OA say the client may
        # not be billed, so the practice carries it.
        return DefaultAction.WRITE_OFF
    return reason.default_action


def _patient_reason(reason: ReasonInfo) -> PatientReason:
    if reason.code == _PAID_TO_PATIENT:
        return PatientReason.PAID_TO_PATIENT
    return _PATIENT_REASONS.get(reason.code, PatientReason.NON_COVERED)
