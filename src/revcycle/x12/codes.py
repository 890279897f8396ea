"""The small X12 code tables the acknowledgment and inquiry codecs read and write.

The texts are our own short wording of the X12 external code lists, enough for a person to
read a message without the guide at hand:

* 277 claim status category codes (STC01-1, list 507), with our outcome for each: what
  the category says about the claim in one of seven words;
* 999 acknowledgment codes (IK5-01 for one transaction set, AK9-01 for the group), the
  transaction set and group syntax error codes (IK5-02.., AK9-05..), and the segment
  (IK3-04) and element (IK4-03) error codes;
* 271 eligibility or benefit codes (EB01), coverage levels (EB02), the service types we
  ask about (EB03 / EQ01), time periods (EB06) and AAA reject reasons;
* 835 claim statuses (CLP02), adjustment groups (CAS01) and provider-level adjustment
  reasons (PLB03-1). The adjustment reasons (CARC) and remark codes (RARC) are X12's and are
  not shipped: the 835 reader keeps them as text and never refuses one it does not know.

A category code outside list 507 is refused (:func:`stc_category` raises ``KeyError``):
the category is what moves a claim, so guessing would be wrong. Every other code here only
explains: a code the tables do not know is kept as it came, and :func:`describe` says so.
Which claim status a category implies is the domain's (``domain/claim_status.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "AAA_REJECT_REASONS",
    "ADJUSTMENT_GROUPS",
    "ADJUSTMENT_GROUPS_835",
    "CLAIM_STATUSES",
    "COVERAGE_LEVELS",
    "EB01_CODES",
    "GROUP_SYNTAX_ERRORS",
    "IK3_SEGMENT_ERRORS",
    "IK4_ELEMENT_ERRORS",
    "IK5_AK9_CODES",
    "PROVIDER_ADJUSTMENT_REASONS",
    "SERVICE_TYPES",
    "STC_CATEGORIES",
    "TIME_PERIODS",
    "TRANSACTION_SYNTAX_ERRORS",
    "StcCategory",
    "StcOutcome",
    "describe",
    "stc_category",
]

StcOutcome = Literal[
    "accepted",
    "rejected",
    "pending",
    "finalized_paid",
    "finalized_denied",
    "needs_information",
    "other",
]


@dataclass(frozen=True)
class StcCategory:
    """One claim status category code: its meaning and what it says about the claim."""

    code: str
    meaning: str
    outcome: StcOutcome


def _categories(rows: list[tuple[str, StcOutcome, str]]) -> Mapping[str, StcCategory]:
    return MappingProxyType({code: StcCategory(code, meaning, outcome) for code, outcome, meaning in rows})


# "other" covers what is neither a decision nor a request: received or forwarded (the
# claim is acknowledged, not yet accepted), finalized without saying paid or denied (the
# 835 will tell), errors about the inquiry itself (E0-E4), and encounter data reporting.
STC_CATEGORIES: Mapping[str, StcCategory] = _categories(
    [
        ("A0", "other", "acknowledged: forwarded to another entity"),
        ("A1", "other", "acknowledged: received, not yet accepted for adjudication"),
        ("A2", "accepted", "acknowledged: accepted into the adjudication system"),
        ("A3", "rejected", "acknowledged: returned as unprocessable"),
        ("A4", "rejected", "acknowledged: not found"),
        ("A5", "accepted", "acknowledged: split claim"),
        ("A6", "rejected", "acknowledged: rejected for missing information"),
        ("A7", "rejected", "acknowledged: rejected for invalid information"),
        ("A8", "rejected", "acknowledged: rejected for a relational field in error"),
        ("D0", "other", "data search unsuccessful"),
        *[(f"DR0{n}", "other", "data reporting (encounter)") for n in range(1, 9)],
        ("E0", "other", "response not possible: error in the submitted request"),
        ("E1", "other", "response not possible: system status"),
        ("E2", "other", "information holder is not responding"),
        ("E3", "other", "correction required: relational fields in error"),
        ("E4", "other", "trading partner agreement requirement not met"),
        ("F0", "other", "finalized: adjudication complete"),
        ("F1", "finalized_paid", "finalized: payment"),
        ("F2", "finalized_denied", "finalized: denial"),
        ("F3", "other", "finalized: revised"),
        ("F3F", "other", "finalized: revised, forwarded"),
        ("F3N", "other", "finalized: revised, not forwarded"),
        ("F4", "other", "finalized: adjudication complete, no payment forthcoming"),
        ("F5", "rejected", "finalized: cannot process"),
        ("P0", "pending", "pending: adjudication details"),
        ("P1", "pending", "pending: in process"),
        ("P2", "pending", "pending: payer review"),
        ("P3", "pending", "pending: information requested from the provider"),
        ("P4", "pending", "pending: information requested from the patient"),
        ("P5", "pending", "pending: payer administrative or system hold"),
        ("R0", "needs_information", "more information requested: general"),
        ("R1", "needs_information", "more information requested: entity"),
        ("R2", "needs_information", "more information requested"),
        ("R3", "needs_information", "more information requested: claim or line"),
        ("R4", "needs_information", "more information requested: documentation"),
        ("R5", "needs_information", "more information requested: more specific detail"),
        ("R6", "needs_information", "more information requested: regulatory requirements"),
        ("R7", "needs_information", "more information requested: care consistent with plan policy"),
        ("R8", "needs_information", "more information requested: care consistent with coverage exceptions"),
        ("R9", "needs_information", "more information requested: medical necessity"),
        ("R10", "needs_information", "more information requested: to support a grievance or appeal"),
        ("R11", "needs_information", "more information requested: pre-payment review"),
        ("R12", "needs_information", "more information requested: justification of a procedure code"),
        ("R13", "needs_information", "more information requested: documents sent were not readable"),
        ("R14", "needs_information", "more information requested: documents sent were not those asked for"),
        ("R15", "needs_information", "more information requested: workers' compensation coverage"),
        ("R16", "needs_information", "more information requested: eligibility"),
        ("RQ", "needs_information", "general request for information"),
    ]
)

_CODE = re.compile(r"[A-Z0-9]{1,3}")


def stc_category(code: str) -> StcCategory:
    """The category for an STC01-1 code; ``KeyError`` naming the code when list 507 lacks it."""
    normalized = code.strip().upper()
    if not _CODE.fullmatch(normalized) or normalized not in STC_CATEGORIES:
        raise KeyError(f"unknown claim status category code {code!r}")
    return STC_CATEGORIES[normalized]


def describe(table: Mapping[str, str], code: str) -> str:
    """The text for ``code`` in ``table``, or a plain note that the code is not in our table."""
    return table.get(code.strip(), f"code {code!r} (not in our table)")


# IK5-01 (one transaction set) and AK9-01 (the functional group); P exists only in AK9.
IK5_AK9_CODES: Mapping[str, str] = MappingProxyType(
    {
        "A": "accepted",
        "E": "accepted, but errors were noted",
        "M": "rejected: message authentication code failed",
        "P": "partially accepted: at least one transaction set was rejected",
        "R": "rejected",
        "W": "rejected: assurance failed validity tests",
        "X": "rejected: content could not be analyzed after decryption",
    }
)

# IK5-02..IK5-06: why a transaction set was not accepted (list 718).
TRANSACTION_SYNTAX_ERRORS: Mapping[str, str] = MappingProxyType(
    {
        "1": "transaction set not supported",
        "2": "transaction set trailer missing",
        "3": "control number in header and trailer do not match",
        "4": "number of included segments does not match the actual count",
        "5": "one or more segments in error",
        "6": "missing or invalid transaction set identifier",
        "7": "missing or invalid transaction set control number",
        "8": "authentication key name unknown",
        "9": "encryption key name unknown",
        "10": "requested service not available",
        "11": "unknown security recipient",
        "12": "incorrect message length",
        "13": "message authentication code failed",
        "15": "unknown security originator",
        "16": "syntax error in decrypted text",
        "17": "security not supported",
        "18": "transaction set not in a functional group",
        "19": "invalid implementation convention reference",
        "23": "transaction set control number not unique within the group",
        "24": "S3E security end segment missing",
        "25": "S3S security start segment missing",
        "26": "S4E security end segment missing",
        "27": "S4S security start segment missing",
        "I5": "implementation: one or more segments in error",
        "I6": "implementation convention not supported",
    }
)

# AK9-05..AK9-09: why the functional group was not accepted (list 716).
GROUP_SYNTAX_ERRORS: Mapping[str, str] = MappingProxyType(
    {
        "1": "functional group not supported",
        "2": "functional group version not supported",
        "3": "functional group trailer missing",
        "4": "group control number in header and trailer do not agree",
        "5": "number of included transaction sets does not match the actual count",
        "6": "group control number violates syntax",
        "10": "authentication key name unknown",
        "11": "encryption key name unknown",
        "12": "requested service not available",
        "13": "unknown security recipient",
        "14": "unknown security originator",
        "15": "syntax error in decrypted text",
        "16": "security not supported",
        "17": "incorrect message length",
        "18": "message authentication code failed",
        "19": "group control number not unique within the interchange",
        "23": "S3E security end segment missing",
        "24": "S3S security start segment missing",
        "25": "S4E security end segment missing",
        "26": "S4S security start segment missing",
    }
)

# IK3-04: what is wrong with a segment (list 620).
IK3_SEGMENT_ERRORS: Mapping[str, str] = MappingProxyType(
    {
        "1": "unrecognized segment id",
        "2": "unexpected segment",
        "3": "required segment missing",
        "4": "loop occurs over maximum times",
        "5": "segment exceeds maximum use",
        "6": "segment not in the defined transaction set",
        "7": "segment not in proper sequence",
        "8": "segment has data element errors",
        "I4": "implementation 'not used' segment present",
        "I6": "implementation dependent segment missing",
        "I7": "implementation loop occurs under minimum times",
        "I8": "implementation segment below minimum use",
        "I9": "implementation dependent 'not used' segment present",
    }
)

# IK4-03: what is wrong with an element (list 621).
IK4_ELEMENT_ERRORS: Mapping[str, str] = MappingProxyType(
    {
        "1": "required data element missing",
        "2": "conditional required data element missing",
        "3": "too many data elements",
        "4": "data element too short",
        "5": "data element too long",
        "6": "invalid character in data element",
        "7": "invalid code value",
        "8": "invalid date",
        "9": "invalid time",
        "10": "exclusion condition violated",
        "12": "too many repetitions",
        "13": "too many components",
        "I6": "code value not used in the implementation",
        "I9": "implementation dependent data element missing",
        "I10": "implementation 'not used' data element present",
        "I11": "implementation too few repetitions",
        "I12": "implementation pattern match failure",
        "I13": "implementation dependent 'not used' data element present",
    }
)

# EB01: eligibility or benefit information (list 1390).
EB01_CODES: Mapping[str, str] = MappingProxyType(
    {
        "1": "active coverage",
        "2": "active: full risk capitation",
        "3": "active: services capitated",
        "4": "active: services capitated to primary care physician",
        "5": "active: pending investigation",
        "6": "inactive",
        "7": "inactive: pending eligibility update",
        "8": "inactive: pending investigation",
        "A": "co-insurance",
        "B": "co-payment",
        "C": "deductible",
        "CB": "coverage basis",
        "D": "benefit description",
        "E": "exclusions",
        "F": "limitations",
        "G": "out of pocket (stop loss)",
        "H": "unlimited",
        "I": "non-covered",
        "J": "cost containment",
        "K": "reserve",
        "L": "primary care provider",
        "M": "pre-existing condition",
        "MC": "managed care coordinator",
        "N": "services restricted to the following provider",
        "O": "not deemed a medical necessity",
        "P": "benefit disclaimer",
        "Q": "second surgical opinion required",
        "R": "other or additional payer",
        "S": "prior year(s) history",
        "T": "card(s) reported lost or stolen",
        "U": "contact the following entity for eligibility or benefit information",
        "V": "cannot process",
        "W": "other source of data",
        "X": "health care facility",
        "Y": "spend down",
    }
)

# EB02: whose coverage a benefit line describes.
COVERAGE_LEVELS: Mapping[str, str] = MappingProxyType(
    {
        "CHD": "children only",
        "DEP": "dependents only",
        "ECH": "employee and children",
        "EMP": "employee only",
        "ESP": "employee and spouse",
        "FAM": "family",
        "IND": "individual",
        "SPC": "spouse and children",
        "SPO": "spouse only",
    }
)

# EQ01 / EB03: the service types an outpatient behavioral-health practice asks about.
SERVICE_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "1": "medical care",
        "30": "health benefit plan coverage",
        "98": "professional (physician) visit, office",
        "A4": "psychiatric",
        "A6": "psychotherapy",
        "A7": "psychiatric, inpatient",
        "A8": "psychiatric, outpatient",
        "MH": "mental health",
        "UC": "urgent care",
    }
)

# EB06: the period an amount or count applies to.
TIME_PERIODS: Mapping[str, str] = MappingProxyType(
    {
        "6": "hour",
        "7": "day",
        "13": "24 hours",
        "21": "years",
        "22": "service year",
        "23": "calendar year",
        "24": "year to date",
        "25": "contract",
        "26": "episode",
        "27": "visit",
        "28": "outlier",
        "29": "remaining",
        "30": "exceeded",
        "31": "not exceeded",
        "32": "lifetime",
        "33": "lifetime remaining",
        "34": "month",
        "35": "week",
        "36": "admission",
    }
)

# AAA03: why a request (or part of it) could not be answered (list 901).
AAA_REJECT_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "15": "required application data missing",
        "41": "authorization or access restrictions",
        "42": "unable to respond at the current time",
        "43": "invalid or missing provider identification",
        "44": "invalid or missing provider name",
        "45": "invalid or missing provider specialty",
        "46": "invalid or missing provider phone number",
        "47": "invalid or missing provider state",
        "48": "invalid or missing referring provider identification number",
        "49": "provider is not the primary care physician",
        "50": "provider ineligible for inquiries",
        "51": "provider not on file",
        "52": "service dates not within provider plan enrollment",
        "53": "inquired benefit inconsistent with provider type",
        "54": "inappropriate product or service id qualifier",
        "55": "inappropriate product or service id",
        "56": "inappropriate date",
        "57": "invalid or missing date(s) of service",
        "58": "invalid or missing date of birth",
        "60": "date of birth follows date(s) of service",
        "61": "date of death precedes date(s) of service",
        "62": "date of service not within allowable inquiry period",
        "63": "date of service in the future",
        "64": "invalid or missing patient id",
        "65": "invalid or missing patient name",
        "66": "invalid or missing patient gender code",
        "67": "patient not found",
        "68": "duplicate patient id number",
        "69": "inconsistent with patient's age",
        "70": "inconsistent with patient's gender",
        "71": "patient birth date does not match the payer's records",
        "72": "invalid or missing subscriber id",
        "73": "invalid or missing subscriber name",
        "74": "invalid or missing subscriber gender code",
        "75": "subscriber not found",
        "76": "duplicate subscriber id number",
        "77": "subscriber found, patient not found",
        "78": "subscriber not in the group or plan identified",
        "79": "invalid participant identification",
        "80": "no response received: transaction terminated",
        "97": "invalid or missing provider address",
        "AA": "authorization number not found",
        "AE": "requires primary care physician authorization",
        "AF": "invalid or missing diagnosis code(s)",
        "AG": "invalid or missing procedure code(s)",
        "AO": "additional patient condition information required",
        "CI": "certification information does not match the patient",
        "E8": "requires medical review",
        "IA": "invalid authorization number format",
        "MA": "missing authorization",
        "T4": "payer name or identifier missing",
    }
)


# ----------------------------------------------------------------------------- the 835

# CLP02: how the payer processed a claim (the 005010X221A1 list). 22 takes back an earlier
# payment: its amounts are that payment's negated, and a correction usually follows under the
# same patient control number with its own CLP02.
CLAIM_STATUSES: Mapping[str, str] = MappingProxyType(
    {
        "1": "processed as primary",
        "2": "processed as secondary",
        "3": "processed as tertiary",
        "4": "denied",
        "19": "processed as primary, forwarded to additional payer(s)",
        "20": "processed as secondary, forwarded to additional payer(s)",
        "21": "processed as tertiary, forwarded to additional payer(s)",
        "22": "reversal of previous payment",
        "23": "not our claim, forwarded to additional payer(s)",
        "25": "predetermination pricing only: no payment",
    }
)

# CAS01: who carries an adjustment (shared/codesets/x12_claim_adjustment, read from pyx12's
# maps). CR is 4010's: read when a payer still sends it, never written in a 5010 835.
ADJUSTMENT_GROUPS: Mapping[str, str] = MappingProxyType(
    {
        "CO": "contractual obligation: the provider writes it off and may not bill the patient",
        "OA": "other adjustment: neither contractual nor the patient's",
        "PI": "payer-initiated reduction the patient is not responsible for",
        "PR": "patient responsibility: deductible, coinsurance, copay, non-covered",
        "CR": "correction or reversal (4010 only)",
    }
)
ADJUSTMENT_GROUPS_835 = frozenset({"CO", "OA", "PI", "PR"})

# PLB03-1: why the payer adjusts the payment as a whole rather than a claim (list 426). A
# positive amount reduces the payment (a withholding, a recoupment); a negative one adds to it
# (interest, a refund returned).
PROVIDER_ADJUSTMENT_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "50": "late charge (late filing penalty)",
        "51": "interest penalty charge",
        "72": "authorized return: a refund the provider sent for an earlier overpayment",
        "90": "early payment allowance",
        "AH": "origination fee (transmission fee)",
        "AM": "applied to borrower's account (loan repayment)",
        "AP": "acceleration of benefits (accelerated payment or its withholding)",
        "B2": "rebate",
        "B3": "recovery allowance",
        "BD": "bad debt adjustment",
        "BN": "bonus",
        "C5": "temporary allowance",
        "CR": "capitation interest",
        "CS": "adjustment (see the reference: often a recoupment of an overpaid claim)",
        "CT": "capitation payment",
        "CV": "capital passthru",
        "CW": "certified registered nurse anesthetist passthru",
        "DM": "direct medical education passthru",
        "E3": "withholding",
        "FB": "forwarding balance: money carried to or from another remittance",
        "FC": "fund allocation",
        "GO": "graduate medical education passthru",
        "HM": "hemophilia clotting factor supplement",
        "IP": "incentive premium payment",
        "IR": "internal revenue service withholding",
        "IS": "interim settlement",
        "J1": "nonreimbursable (a balancing entry that moves no money)",
        "L3": "penalty",
        "L6": "interest owed: interest paid with this payment",
        "LE": "levy",
        "LS": "lump sum",
        "OA": "organ acquisition passthru",
        "OB": "offset for affiliated providers",
        "PI": "periodic interim payment",
        "PL": "payment final",
        "RA": "retro-activity adjustment",
        "RE": "return on equity",
        "SL": "student loan repayment",
        "TL": "third party liability",
        "WO": "overpayment recovery (withholding for an earlier overpayment)",
        "WU": "unspecified recovery",
    }
)
