"""The invented world the demo practice lives in: names, towns, payers, codes and rates.

Everything here is synthetic. Names are common given names and surnames drawn at random and
paired by the seed, so no row describes a real person; phone numbers use the 555-01xx block
reserved for fiction, e-mails the reserved ``example.com`` domain, and street names are made
up. Payer names, EDI payer ids and portal addresses are public facts about real payers, which
is what a billing demo needs to look like the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PRACTICE_NAME = "Riverbend Counseling Group"
PRACTICE_LEGAL_NAME = "Riverbend Counseling Group, LLC"
ORGANIZATION_NAME = "Riverbend Counseling Group"
PRACTICE_TIMEZONE = "America/New_York"
PRACTICE_TAX_ID = "82-4417365"
PRACTICE_NPI_STEM = "148730021"  # nine digits; the check digit is computed
PRACTICE_TAXONOMY = "261QM0801X"  # clinic, mental health
PRACTICE_ADDRESS = ("1200 Riverbend Parkway", "Suite 300", "Montclair", "NJ", "07042-1518")
PRACTICE_PHONE = "(973) 555-0100"

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 -- published demo logins, demo mode only


@dataclass(frozen=True)
class DemoLogin:
    email: str
    full_name: str
    role: str  # domain.permissions.Role value


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin@demo.test", "Morgan Ellery", "admin"),
    DemoLogin("director@demo.test", "Priya Vandermeer", "admin"),
    DemoLogin("billing@demo.test", "Casey Okonkwo-Hart", "billing"),
    DemoLogin("therapist@demo.test", "Jordan Halvorsen", "therapist"),
    DemoLogin("frontdesk@demo.test", "Riley Castellano", "front_desk"),
    DemoLogin("client@demo.test", "Avery Lindqvist", "client"),
)


@dataclass(frozen=True)
class LocationSeed:
    name: str
    place_of_service: str
    address: tuple[str, str, str, str]  # line1, city, state, postal code


LOCATIONS: tuple[LocationSeed, ...] = (
    LocationSeed("Montclair Office", "11", ("1200 Riverbend Parkway", "Montclair", "NJ", "07042-1518")),
    LocationSeed("Telehealth", "10", ("1200 Riverbend Parkway", "Montclair", "NJ", "07042-1518")),
)


@dataclass(frozen=True)
class ClinicianSeed:
    first_name: str
    last_name: str
    credentials: str
    taxonomy_code: str
    npi_stem: str  # nine digits
    does_family: bool = False
    supervised_by: int | None = None  # index of the supervising clinician in CLINICIANS


# The therapist demo login is linked to the first clinician.
CLINICIANS: tuple[ClinicianSeed, ...] = (
    ClinicianSeed("Jordan", "Halvorsen", "LCSW", "1041C0700X", "158203947"),
    ClinicianSeed("Marisol", "Quintero", "LPC", "101YP2500X", "167411208"),
    ClinicianSeed("Tobias", "Wrenfield", "LMFT", "106H00000X", "172950364", does_family=True),
    ClinicianSeed("Adaeze", "Nwankwo-Bell", "PsyD", "103T00000X", "181366025"),
    ClinicianSeed("Eleanor", "Fairbrook", "PhD", "103TC0700X", "190427713"),
    ClinicianSeed("Samir", "Koutsoukis", "LCSW", "1041C0700X", "126738450"),
    ClinicianSeed("Hannah", "Delacroix-Moss", "LMFT", "106H00000X", "135092861", does_family=True),
    ClinicianSeed("Wesley", "Ambrose", "LPC", "101YP2500X", "143875206"),
    # A licensed associate counselor billing under Dr. Fairbrook's supervision.
    ClinicianSeed("Lena", "Marchetti", "LAC", "101YM0800X", "119264537", supervised_by=4),
)


@dataclass(frozen=True)
class PortalSeed:
    key: str
    name: str
    url: str
    login_instructions: str


_VAULT = "Sign in with the practice's billing account; the password is in the office password manager"
PORTALS: tuple[PortalSeed, ...] = (
    PortalSeed(
        "availity",
        "Availity Essentials",
        "https://www.availity.com",
        f"{_VAULT} under 'Availity'. Two-factor codes go to the billing phone. "
        "Claims > Claim Status for Aetna and AmeriHealth.",
    ),
    PortalSeed(
        "magellan",
        "Magellan Provider Portal",
        "https://www.magellanprovider.com",
        f"{_VAULT} under 'Magellan'. Submit claims under Claims > Enter a Claim.",
    ),
    PortalSeed(
        "oscar",
        "Oscar Provider Portal",
        "https://www.hioscar.com/providers",
        f"{_VAULT} under 'Oscar'. Claim status is under Claims; appeals need the claim number.",
    ),
    PortalSeed(
        "humana_military",
        "Humana Military (TRICARE East) Provider Portal",
        "https://www.humanamilitary.com/provider",
        f"{_VAULT} under 'TRICARE East'. Authorizations are checked before the first visit.",
    ),
)


@dataclass(frozen=True)
class PayerSeed:
    key: str
    name: str
    edi_payer_id: str
    kind: str  # commercial | medicare | medicaid | medicare_advantage | tricare | self_pay
    aliases: tuple[str, ...]
    route: str  # portal | clearinghouse | simplepractice | paper
    portal: str | None  # PortalSeed.key
    timely_filing_days: int
    appeal_days: int
    allowed_ratio: Decimal  # contract allowed / standard fee
    share: int  # relative weight among insured clients
    copay_cents: tuple[int, ...]  # copays drawn for this payer's members
    member_prefix: str
    denial_rate: float


PAYERS: tuple[PayerSeed, ...] = (
    PayerSeed(
        "aetna",
        "Aetna",
        "60054",
        "commercial",
        ("Aetna Health", "AETNA INC", "Aetna Behavioral Health"),
        "portal",
        "availity",
        180,
        180,
        Decimal("0.78"),
        14,
        (2000, 2500, 3000),
        "W",
        0.06,
    ),
    PayerSeed(
        "horizon",
        "Horizon Blue Cross Blue Shield of New Jersey",
        "22099",
        "commercial",
        ("Horizon BCBS NJ", "Horizon BCBSNJ", "Horizon Blue Cross"),
        "clearinghouse",
        None,
        180,
        180,
        Decimal("0.72"),
        22,
        (2500, 3000, 4000),
        "3HZ",
        0.07,
    ),
    PayerSeed(
        "uhc",
        "UnitedHealthcare",
        "87726",
        "commercial",
        ("UHC", "United Healthcare", "UnitedHealthcare Inc"),
        "clearinghouse",
        None,
        90,
        180,
        Decimal("0.70"),
        14,
        (2000, 3000),
        "UH",
        0.08,
    ),
    PayerSeed(
        "cigna",
        "Cigna",
        "62308",
        "commercial",
        ("Cigna Behavioral Health", "CIGNA HEALTHCARE", "Evernorth"),
        "clearinghouse",
        None,
        90,
        180,
        Decimal("0.80"),
        10,
        (2500, 3500),
        "U",
        0.06,
    ),
    PayerSeed(
        "amerihealth",
        "AmeriHealth New Jersey",
        "95044",
        "commercial",
        ("AmeriHealth NJ", "AmeriHealth"),
        "portal",
        "availity",
        180,
        180,
        Decimal("0.74"),
        6,
        (2000, 3000),
        "QAH",
        0.07,
    ),
    PayerSeed(
        "magellan",
        "Magellan Healthcare",
        "01260",
        "commercial",
        ("Magellan Behavioral Health", "Magellan"),
        "portal",
        "magellan",
        90,
        90,
        Decimal("0.66"),
        4,
        (2000,),
        "MGL",
        0.1,
    ),
    PayerSeed(
        "oscar",
        "Oscar Health",
        "OSCAR",
        "commercial",
        ("Oscar", "Oscar Insurance"),
        "portal",
        "oscar",
        180,
        180,
        Decimal("0.68"),
        4,
        (3000, 4000),
        "OSC",
        0.09,
    ),
    PayerSeed(
        "tricare",
        "TRICARE East (Humana Military)",
        "99727",
        "tricare",
        ("Tricare East", "Humana Military"),
        "portal",
        "humana_military",
        365,
        90,
        Decimal("0.65"),
        3,
        (0, 3300),
        "TRE",
        0.05,
    ),
    PayerSeed(
        "medicare",
        "Medicare New Jersey (Novitas Solutions)",
        "12402",
        "medicare",
        ("Medicare Part B NJ", "Novitas JL NJ", "Medicare"),
        "clearinghouse",
        None,
        365,
        120,
        Decimal("0.62"),
        6,
        (0,),
        "1EG4",
        0.04,
    ),
    PayerSeed(
        "medicaid",
        "NJ FamilyCare - UnitedHealthcare Community Plan (AmeriChoice)",
        "86047",
        "medicaid",
        ("NJ FamilyCare", "AmeriChoice NJ", "UHC Community Plan NJ"),
        "clearinghouse",
        None,
        180,
        90,
        Decimal("0.60"),
        5,
        (0,),
        "NJM",
        0.09,
    ),
    PayerSeed(
        "optum",
        "Optum Behavioral Health (UBH)",
        "OPTUM",
        "commercial",
        ("Optum", "United Behavioral Health", "UBH"),
        "simplepractice",
        None,
        90,
        180,
        Decimal("0.69"),
        6,
        (2000, 2500),
        "OBH",
        0.07,
    ),
    # A union benefit fund the practice bills on paper (CMS-1500 by mail): its TPA takes no
    # electronic claims from practices this size.
    PayerSeed(
        "seiu1199",
        "1199SEIU Benefit and Pension Funds",
        "13162",
        "commercial",
        ("1199SEIU", "1199 SEIU Benefit Funds", "1199 National Benefit Fund"),
        "paper",
        None,
        120,
        180,
        Decimal("0.70"),
        3,
        (1500, 2000),
        "NBF",
        0.06,
    ),
    PayerSeed(
        "self_pay",
        "Self-pay",
        "",
        "self_pay",
        ("Self Pay", "Private Pay"),
        "paper",
        None,
        365,
        0,
        Decimal("1.0"),
        0,
        (0,),
        "",
        0.0,
    ),
)

# Standard fee schedule, cents per code.
STANDARD_FEES: dict[str, int] = {
    "90791": 20000,
    "90832": 9000,
    "90834": 13000,
    "90837": 16000,
    "90846": 14000,
    "90847": 15000,
    "90853": 6000,
    "90785": 2500,
    "90839": 22000,
    "90840": 10000,
}
# A practice-defined code for the fee charged to the client for a missed appointment or a
# late cancel; never sent to a payer. SimplePractice practices use a short number such as
# ``111``: the import treats any code that is not CPT/HCPCS as a patient-only charge.
NO_SHOW_CODE = "111"
NO_SHOW_FEE_CENTS = 11100
# How SimplePractice names each payer in its exports: ``Name (payer id)``, as the practice
# typed the plan when it set the client up, double spaces and nested parentheses included.
# Payers whose EDI id is not an id the export would show (no digit) appear by name alone.
SIMPLEPRACTICE_PAYER_LABELS: dict[str, str] = {
    "aetna": "Aetna (60054)",
    "horizon": "Horizon Blue Cross Blue Shield of New Jersey (22099)",
    "uhc": "UnitedHealthcare (87726)",
    "cigna": "Cigna (62308)",
    "amerihealth": "AmeriHealth New Jersey (95044)",
    "magellan": "Magellan Healthcare (01260)",
    "oscar": "Oscar Health",
    "tricare": "Tricare East (99727)",
    "medicare": "Medicare Part B NJ (12402)",
    "medicaid": "AmeriChoice NJ  Medicaid  NJ Family Care (UnitedHealthcare Community Plan) (86047)",
    "optum": "Optum Behavioral Health (UBH)",
    "seiu1199": "1199SEIU Benefit Funds (13162)",
}
# A plan the practice has never billed, typed into SimplePractice for one client: the import
# flags it as an unknown payer (one of the demo's deliberate problems).
UNKNOWN_PAYER_LABEL = "Meritain Health (64158)"

# Government payers set their own fee schedules, below the practice's standard fees.
PAYER_FEE_RATIOS: dict[str, Decimal] = {"medicare": Decimal("0.62"), "medicaid": Decimal("0.60")}

# Diagnoses seen in an outpatient counseling practice (ICD-10-CM chapter F), with weights.
ADULT_DIAGNOSES: tuple[tuple[str, int], ...] = (
    ("F41.1", 20),
    ("F32.1", 12),
    ("F43.10", 8),
    ("F33.1", 10),
    ("F43.23", 10),
    ("F41.0", 4),
    ("F43.22", 6),
    ("F34.1", 4),
    ("F42.2", 2),
    ("F40.10", 3),
    ("F43.12", 3),
    ("F33.0", 4),
    ("F32.0", 3),
    ("F90.0", 3),
    ("F51.01", 1),
    ("F41.9", 4),
)
CHILD_DIAGNOSES: tuple[tuple[str, int], ...] = (
    ("F90.0", 12),
    ("F90.2", 8),
    ("F41.1", 10),
    ("F93.0", 6),
    ("F43.23", 8),
    ("F43.22", 6),
    ("F32.1", 4),
    ("F43.25", 5),
    ("F40.10", 3),
)

FIRST_NAMES_F: tuple[str, ...] = (
    "Abigail",
    "Adriana",
    "Alicia",
    "Amara",
    "Anika",
    "Beatriz",
    "Bianca",
    "Brianna",
    "Camille",
    "Carmen",
    "Chloe",
    "Daniela",
    "Delia",
    "Elena",
    "Eliza",
    "Esme",
    "Fatima",
    "Gabriela",
    "Gemma",
    "Hazel",
    "Imani",
    "Ines",
    "Isla",
    "Jasmine",
    "Juliet",
    "Kendra",
    "Keisha",
    "Lana",
    "Leila",
    "Lucia",
    "Mabel",
    "Maeve",
    "Malia",
    "Marisa",
    "Mila",
    "Nadia",
    "Naomi",
    "Nora",
    "Olive",
    "Paloma",
    "Phoebe",
    "Quinn",
    "Rosalind",
    "Ruth",
    "Sabrina",
    "Selma",
    "Sienna",
    "Tamsin",
    "Tessa",
    "Valeria",
    "Vera",
    "Wren",
    "Ximena",
    "Yara",
    "Zadie",
    "Zora",
)
FIRST_NAMES_M: tuple[str, ...] = (
    "Aaron",
    "Adrian",
    "Amir",
    "Andre",
    "Arlo",
    "Benedict",
    "Caleb",
    "Cyrus",
    "Dante",
    "Declan",
    "Desmond",
    "Elias",
    "Emil",
    "Ezra",
    "Felix",
    "Gideon",
    "Hector",
    "Ian",
    "Idris",
    "Jalen",
    "Jonah",
    "Julian",
    "Kai",
    "Kieran",
    "Lamar",
    "Levi",
    "Luca",
    "Malcolm",
    "Mateo",
    "Milo",
    "Nico",
    "Omar",
    "Orson",
    "Pablo",
    "Quentin",
    "Rafael",
    "Reuben",
    "Rohan",
    "Silas",
    "Soren",
    "Tariq",
    "Theo",
    "Tomas",
    "Victor",
    "Wade",
    "Xavier",
    "Yusuf",
    "Zane",
)
LAST_NAMES: tuple[str, ...] = (
    "Abernathy",
    "Adeyemi",
    "Alcott",
    "Ashdown",
    "Barrowman",
    "Bellweather",
    "Birchfield",
    "Blackwood",
    "Brightwater",
    "Calloway",
    "Castellanos",
    "Chadwick",
    "Corriveau",
    "Dalgleish",
    "Delgado-Reyes",
    "Drummond",
    "Eastbrook",
    "Ellingsworth",
    "Esposito",
    "Farrow",
    "Fennimore",
    "Galloway",
    "Garrick",
    "Greenhalgh",
    "Halloran",
    "Hawthorne",
    "Heathcote",
    "Ishikawa",
    "Jablonski",
    "Kavanagh",
    "Kestrel",
    "Kowalczyk",
    "Lachance",
    "Lindqvist",
    "Lockridge",
    "Mabry",
    "Marchbanks",
    "Mendelsohn",
    "Moorcroft",
    "Nakashima",
    "Northcott",
    "Oduya",
    "Okafor",
    "Pemberton",
    "Pennington",
    "Quatermaine",
    "Ravenscroft",
    "Rosenthal-Diaz",
    "Saltonstall",
    "Sandoval",
    "Silverstein",
    "Stavros",
    "Sutherland",
    "Tremblay",
    "Underhill",
    "Valcourt",
    "Vasquez-Lowe",
    "Wainwright",
    "Westerberg",
    "Whitlock",
    "Yamaguchi",
    "Zielinski",
)
STREET_NAMES: tuple[str, ...] = (
    "Alder Brook Lane",
    "Amberfield Road",
    "Bellflower Court",
    "Birch Hollow Drive",
    "Cobblestone Way",
    "Copper Kettle Road",
    "Driftwood Terrace",
    "Elderberry Street",
    "Fernhill Avenue",
    "Foxglove Lane",
    "Harvest Moon Drive",
    "Heron Pond Road",
    "Juniper Ridge Court",
    "Lantern Hill Road",
    "Larkspur Avenue",
    "Maple Hollow Lane",
    "Meadowlark Street",
    "Millrace Road",
    "Orchard Gate Drive",
    "Quarry View Terrace",
    "Red Fox Run",
    "Saddlebrook Court",
    "Silver Birch Way",
    "Stonewall Lane",
    "Sycamore Bend",
    "Thistle Down Road",
    "Tidewater Place",
    "Willow Creek Drive",
    "Windward Avenue",
)


@dataclass(frozen=True)
class Town:
    city: str
    state: str
    postal_code: str
    area_code: str
    weight: int


TOWNS: tuple[Town, ...] = (
    Town("Montclair", "NJ", "07042", "973", 14),
    Town("Bloomfield", "NJ", "07003", "973", 8),
    Town("Verona", "NJ", "07044", "973", 5),
    Town("Maplewood", "NJ", "07040", "973", 6),
    Town("West Orange", "NJ", "07052", "973", 8),
    Town("Nutley", "NJ", "07110", "973", 5),
    Town("Clifton", "NJ", "07011", "973", 6),
    Town("Little Falls", "NJ", "07424", "973", 3),
    Town("Morristown", "NJ", "07960", "973", 4),
    Town("Hoboken", "NJ", "07030", "201", 4),
    Town("Jersey City", "NJ", "07302", "201", 5),
    Town("Summit", "NJ", "07901", "908", 3),
    Town("Princeton", "NJ", "08540", "609", 2),
    Town("Staten Island", "NY", "10301", "718", 3),
    Town("Brooklyn", "NY", "11215", "718", 3),
    Town("Nyack", "NY", "10960", "845", 2),
    Town("White Plains", "NY", "10601", "914", 2),
    Town("Yardley", "PA", "19067", "215", 2),
    Town("Doylestown", "PA", "18901", "215", 2),
    Town("Easton", "PA", "18042", "610", 2),
)

WORK_ITEM_TITLES: dict[str, str] = {
    "timely_filing": "Timely filing deadline approaching",
    "denial_followup": "Denied claim needs review",
    "no_response": "No response from payer: follow up",
    "eligibility": "Coverage could not be verified",
    "credit_balance": "Client has a credit balance",
}

# Payers that pay a behavioral-health visit only under a prior authorization.
PRIOR_AUTH_PAYERS = frozenset({"tricare", "magellan"})
AUTHORIZATION_PREFIXES: dict[str, str] = {"tricare": "HMA", "magellan": "MAG-A"}

# What each portal hands back when a claim is entered: (prefix, digits) of its reference.
PORTAL_REFERENCES: dict[str, tuple[str, int]] = {
    "availity": ("AV", 11),
    "magellan": ("MGL", 9),
    "oscar": ("OSC-", 10),
    "humana_military": ("HMHS", 10),
}
# Why the billing login accepts a scrub warning, by the warning's code.
OVERRIDE_REASONS: dict[str, str] = {
    "scrub.icd10_valid.no_release": (
        "FY2027 ICD-10-CM addenda checked by hand: the client's diagnosis codes are unchanged and billable"
    ),
}
