"""Remittance throughput: a 20,000-claim 835 parsed, and parsed and posted, on SQLite and
PostgreSQL; the same file parsed by two peers (x12sdk, oxedi) for comparison.

The file is generated with our writer (``x12.write835.write_835``) from a plan that is a pure
function of the claim count: claims of one or two lines (psychotherapy codes), most paid with a
contractual write-off (CO-45) and the patient's copay or coinsurance (PR-3, PR-2), some paid
nothing for the deductible (PR-1), some denied (CO-50, CO-197, CO-16, CO-29 with their remark
codes), a few reversed (CLP02 22) and corrected, and one interest PLB. It is checked to balance
(``remit835.check_balanced``) before anything runs. An earlier 835 pays the claims the big
file reverses (posted before the timed steps when posting exists).

For each database, in a child process of its own (its peak RSS is its own), on a fresh migrated
database (a new PostgreSQL database on the local server, dropped after):

1. **seed** (untimed in the targets, in a process of its own so that the measuring child's peak
   RSS is parsing and posting's, not the test factories'): a practice, a payer, a client with a
   coverage for every ten claims, and the claims of the plan, submitted, each line's charge
   posted to the ledger (``services.ledger.post_transaction``), with the test factories as
   ``x12_bench.py`` does; on SQLite its write-ahead log is then checkpointed, as a database at
   rest would be (the seed is one transaction of some 500,000 rows);
2. **parse**: ``read_835`` of the file (best of ``--repeat``), and ``check_balanced`` of it;
3. **parse + post**, in a process of its own again (its peak RSS is reading and posting's, not
   the parse timings'): the earlier 835 ingested (untimed), then ``services.x12_ingest.ingest``
   of the file timed, in one unit of work, committed. Until the 835 posting lands in
   ``x12_ingest``, this step reports "post: not available yet" and is not judged.

The peers run each in a child process of its own on the same file, as does our reader alone
(``revcycle``), so that the three parse figures come from the same kind of process; each is the
best of ``--repeat`` runs, and each child checks that its reader saw every claim. The peers are
installed only in the benchmark environment (``.venv-bench``, made by ``make bench`` from
``bench/requirements-peers.txt``); a peer that is not installed, or that has no wheel for this
machine, is printed and recorded as unavailable, and the target that needs it is not judged.

Targets (exit 1 when one is missed): our parse within :data:`MAX_PARSE_VS_OXEDI` times oxedi's;
our parse + post on SQLite faster than x12sdk's parse alone; the parse + post process's peak
RSS under :data:`MAX_PEAK_RSS_MB` MB on each database (the parse alone's peak is recorded
beside it, and is the reader's own in the ``revcycle`` parser child). Saved to
``results/remittance.json`` (full size) or ``results/remittance-<claims>.json``.

    .venv-bench/bin/python bench/remittance_bench.py [--claims 20000] [--repeat 3]
        [--skip-postgres] [--skip-sqlite] [--skip-peers]
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the test factories seed the claims

from tests import factories as f  # noqa: E402

from import_bench import _drop as drop_database  # noqa: E402  (the same fresh databases)
from import_bench import _new_database as new_database  # noqa: E402
from revcycle.db import models as m  # noqa: E402
from revcycle.db.engine import make_engine, make_session_factory, unit_of_work  # noqa: E402
from revcycle.db.migrate import upgrade  # noqa: E402
from revcycle.domain.ledger import PostingLine  # noqa: E402
from revcycle.domain.ledger_events import (  # noqa: E402
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    charge_to_insurance,
)
from revcycle.domain.npi import make_npi  # noqa: E402
from revcycle.domain.permissions import Role  # noqa: E402
from revcycle.errors import InvalidInput  # noqa: E402
from revcycle.services.ledger import check_ledger, post_transaction  # noqa: E402
from revcycle.services.x12_ingest import decode, ingest  # noqa: E402
from revcycle.x12.claim277 import Envelope  # noqa: E402
from revcycle.x12.read835 import read_835  # noqa: E402
from revcycle.x12.remit835 import (  # noqa: E402
    Address,
    Adjustment,
    BankAccount,
    ClaimGroup,
    ClaimPayment,
    Contact,
    Party,
    Payee,
    Payer,
    Payment,
    Procedure,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    Trace,
    check_balanced,
)
from revcycle.x12.write835 import write_835  # noqa: E402

FULL_CLAIMS = 20_000
MAX_PARSE_VS_OXEDI = 4.0  # our parse time / oxedi's parse time
MAX_PEAK_RSS_MB = 300
PEERS = ("x12sdk", "oxedi")
PAYER_ID, PAYER_TAX_ID = "87726", "1330411234"
GROUP_NPI = make_npi("123456789")
SEED = 835
FIRST_DAY = date(2026, 1, 5)
PRIOR_PAID_ON, PAID_ON = date(2026, 5, 15), date(2026, 6, 5)

# (code, fee, allowed) of the services billed; a second line is one of the add-ons.
SERVICES = (("90837", 18000, 11260), ("90834", 14000, 9100), ("90791", 20000, 13500), ("90847", 16000, 10500))
ADD_ONS = (("90785", 2500, 1500), ("90840", 9000, 5400))
DENIALS = (("50", "N115"), ("197", "N54"), ("16", "MA130"), ("29", ""))


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlannedLine:
    code: str
    fee_cents: int
    allowed_cents: int


@dataclass(frozen=True)
class PlannedClaim:
    """One claim of the bench: who, when, what was billed, and how the payer answers it."""

    n: int
    number: str
    client: int  # index of its client (one for every ten claims)
    service_on: date
    lines: tuple[PlannedLine, ...]
    outcome: str  # paid | deductible | denied | reversed (paid in the earlier file, reversed in the big one)
    share: tuple[str, int]  # the patient's share of each paid line: ("3", copay) or ("2", percent)
    denial: tuple[str, str] = ("", "")  # (CARC, RARC) of a denial

    @property
    def fee_cents(self) -> int:
        return sum(line.fee_cents for line in self.lines)


def reversal_count(claims: int) -> int:
    return max(1, claims // 1000)


def plan(claims: int) -> list[PlannedClaim]:
    """The claims in the database: the big file has ``claims`` CLPs — a reversal and a correction
    for each reversed claim and one CLP for every other — so ``claims - reversals`` of them."""
    rng = random.Random(SEED)
    reversals = reversal_count(claims)
    planned = []
    for n in range(claims - reversals):
        code, fee, allowed = SERVICES[0] if rng.random() < 0.55 else rng.choice(SERVICES[1:])
        lines = [PlannedLine(code, fee, allowed)]
        if rng.random() < 0.3:
            lines.append(PlannedLine(*rng.choice(ADD_ONS)))
        draw = rng.random()
        outcome = (
            "reversed"
            if n < reversals
            else "deductible"
            if draw < 0.05
            else "denied"
            if draw < 0.15
            else "paid"
        )
        share = ("3", rng.choice((1500, 2000, 2500, 3000))) if rng.random() < 0.7 else ("2", 20)
        planned.append(
            PlannedClaim(
                n=n,
                number=f"RB{n + 1:07d}",
                client=n // 10,
                service_on=FIRST_DAY + timedelta(days=n % 120),
                lines=tuple(lines),
                outcome=outcome,
                share=share,
                denial=rng.choice(DENIALS) if outcome == "denied" else ("", ""),
            )
        )
    return planned


def client_name(index: int) -> tuple[str, str, str]:
    """(last name, first name, member id) of the plan's client ``index``."""
    return f"PATIENT{index:05d}", "ALEX", f"XYZ{index:08d}"


# ----------------------------------------------------------------------------- the files

ENVELOPE_FIELDS = {"sender_qualifier": "ZZ", "sender_id": "BLUERIVER", "receiver_qualifier": "ZZ"}
PAYER = Payer(
    name="BLUE RIVER HEALTH",
    address=Address("PO BOX 100", "", "SPRINGFIELD", "IL", "62701"),
    references=(("2U", PAYER_ID),),
    contacts=(
        Contact("CX", "PROVIDER SERVICES", (("TE", "8005550100"),)),
        Contact("BL", "EDI SUPPORT", (("TE", "8005550199"), ("EM", "edi@example.com"))),
    ),
)
PAYEE = Payee(
    name="BENCH PRACTICE",
    id=GROUP_NPI,
    id_qualifier="XX",
    address=Address("1 MAIN ST", "", "NEWARK", "NJ", "07102"),
    references=(("TJ", "221234567"),),
)


def _line(claim: PlannedClaim, number: int, line: PlannedLine, *, correction: bool = False) -> ServicePayment:
    """A service line as the payer answers it: paid (CO-45 and the patient's share), paid
    nothing for the deductible, or denied whole."""
    adjustments: tuple[Adjustment, ...]
    allowed = line.allowed_cents + (500 if correction else 0)  # a correction allows a little more
    if claim.outcome == "denied":
        adjustments = (Adjustment("CO", claim.denial[0], line.fee_cents),)
        paid_cents, allowed = 0, 0
    else:
        contractual = Adjustment("CO", "45", line.fee_cents - allowed)
        if claim.outcome == "deductible":
            patient = Adjustment("PR", "1", allowed)
        elif claim.share[0] == "3":
            patient = Adjustment("PR", "3", min(claim.share[1], allowed))
        else:
            patient = Adjustment("PR", "2", allowed * claim.share[1] // 100)
        adjustments = (contractual, patient)
        paid_cents = allowed - patient.amount_cents
    remarks = (("HE", claim.denial[1]),) if claim.denial[1] else ()
    return ServicePayment(
        procedure=Procedure("HC", line.code),
        charge_cents=line.fee_cents,
        paid_cents=paid_cents,
        units="1",
        dates=(("472", claim.service_on),),
        adjustments=adjustments,
        references=(("6R", f"{claim.number}-{number}"),),
        amounts=(("B6", allowed),) if allowed else (),
        remarks=remarks,
    )


def _claim_payment(claim: PlannedClaim, *, correction: bool = False) -> ClaimPayment:
    lines = tuple(
        _line(claim, number, line, correction=correction) for number, line in enumerate(claim.lines, start=1)
    )
    last, first, member = client_name(claim.client)
    patient_share = sum(a.amount_cents for line in lines for a in line.adjustments if a.group == "PR")
    status = "4" if claim.outcome == "denied" else "1"
    return ClaimPayment(
        patient_control_number=claim.number,
        status=status,
        charge_cents=claim.fee_cents,
        paid_cents=sum(line.paid_cents for line in lines),
        patient_responsibility_cents=patient_share,
        filing_indicator="12",  # PPO
        payer_claim_control_number=f"26{claim.n:09d}{'C' if correction else ''}",
        facility_code="11",
        frequency="1",
        patient=Party("QC", last, member, "MI", first_name=first, kind="1"),
        dates=(("050", claim.service_on + timedelta(days=9)),),
        lines=lines,
    )


def _negated(claim: ClaimPayment) -> ClaimPayment:
    """The reversal (CLP02 22) of an earlier payment: every amount negated, same claim numbers."""

    def flip(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(Adjustment(a.group, a.reason, -a.amount_cents, a.quantity) for a in adjustments)

    lines = tuple(
        ServicePayment(
            procedure=line.procedure,
            charge_cents=-line.charge_cents,
            paid_cents=-line.paid_cents,
            units=line.units,
            dates=line.dates,
            adjustments=flip(line.adjustments),
            references=line.references,
        )
        for line in claim.lines
    )
    return ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status="22",
        charge_cents=-claim.charge_cents,
        paid_cents=-claim.paid_cents,
        patient_responsibility_cents=-(claim.patient_responsibility_cents or 0),
        filing_indicator=claim.filing_indicator,
        payer_claim_control_number=claim.payer_claim_control_number,
        facility_code=claim.facility_code,
        frequency=claim.frequency,
        patient=claim.patient,
        dates=claim.dates,
        lines=lines,
    )


def _remittance(claims: list[ClaimPayment], trace: str, paid_on: date, interest: int = 0) -> Remittance:
    plb = (ProviderAdjustment(GROUP_NPI, date(2026, 12, 31), "L6", -interest, "INT"),) if interest else ()
    amount = sum(c.paid_cents for c in claims) - sum(a.amount_cents for a in plb)
    return Remittance(
        payment=Payment(
            handling="I",
            amount_cents=amount,
            credit_debit="C",
            method="ACH",
            paid_on=paid_on,
            format="CCP",
            payer_bank=BankAccount("011000015", "123456789"),
            originator_id=PAYER_TAX_ID,
            payee_bank=BankAccount("021000021", "987654321"),
        ),
        trace=Trace(trace, PAYER_TAX_ID),
        payer=PAYER,
        payee=PAYEE,
        groups=(ClaimGroup("1", tuple(claims)),),
        provider_adjustments=plb,
        produced_on=paid_on - timedelta(days=1),
    )


def _write(remittance: Remittance, control: int, paid_on: date) -> bytes:
    check_balanced(remittance)
    envelope = Envelope(
        **ENVELOPE_FIELDS,
        receiver_id="BENCHBILL",
        interchange_control_number=f"{control:09d}",
        group_control_number=str(control),
        sent_at=datetime(paid_on.year, paid_on.month, paid_on.day, 6, 30),  # an X12 time, no zone
    )
    return write_835([remittance], envelope).encode("latin-1")


def files(claims: int) -> tuple[bytes, bytes, dict[str, int]]:
    """(the earlier 835 paying the claims to reverse, the big 835, its CLP counts by kind)."""
    planned = plan(claims)
    reversed_ = [c for c in planned if c.outcome == "reversed"]
    earlier = [_claim_payment(c) for c in reversed_]
    prior = _write(_remittance(earlier, "EFT0000001", PRIOR_PAID_ON), 834, PRIOR_PAID_ON)
    big: list[ClaimPayment] = []
    for claim in reversed_:
        big += [_negated(_claim_payment(claim)), _claim_payment(claim, correction=True)]
    big += [_claim_payment(c) for c in planned if c.outcome != "reversed"]
    counts = dict(Counter(c.outcome for c in planned if c.outcome != "reversed"))
    counts |= {"reversal": len(reversed_), "correction": len(reversed_), "clp": len(big)}
    return prior, _write(_remittance(big, "EFT0000002", PAID_ON, interest=1234), 835, PAID_ON), counts


# ----------------------------------------------------------------------------- a database child


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _seed(session: Any, claims: int) -> tuple[int, int]:
    """The practice, payer, clients and submitted claims of the plan, their charges posted to
    the ledger; (practice id, user id)."""
    practice = f.make_practice(session, name="Bench Practice")
    practice.group_npi = GROUP_NPI
    user = f.make_user(session, practice, Role.BILLING)
    actor = f.actor_for(session, user)
    provider = f.make_provider(session, practice)
    payer = f.make_payer(session, name="Blue River Health", edi_payer_id=PAYER_ID)
    session.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, timely_filing_days=365))
    ids = {"practice": practice.id, "provider": provider.id, "payer": payer.id}
    coverage: m.Coverage | None = None
    lines: list[PostingLine] = []
    planned = plan(claims)
    for claim_plan in planned:
        if coverage is None or claim_plan.n % 10 == 0:
            client = f.make_client(session, practice)
            client.last_name, client.first_name, member = client_name(claim_plan.client)
            coverage = f.make_coverage(session, client, payer)
            coverage.member_id = member
        first, *more = claim_plan.lines
        starts_at = datetime.combine(claim_plan.service_on, datetime.min.time(), UTC) + timedelta(hours=13)
        visit = f.make_session(
            session,
            practice,
            client,
            provider,
            starts_at=starts_at,
            code=first.code,
            fee_cents=first.fee_cents,
        )
        for line in more:
            session.add(
                m.Charge(
                    practice_id=practice.id,
                    session_id=visit.id,
                    procedure_code=line.code,
                    fee_cents=line.fee_cents,
                    diagnosis_codes=["F41.1"],
                )
            )
        session.flush()
        session.refresh(visit, ["charges"])
        claim = f.make_claim(session, visit, coverage, status="submitted")
        claim.number = claim_plan.number
        claim.diagnosis_codes = ["F41.1"]
        insurance = InsuranceRef(coverage.id, payer.id)
        for charge in visit.charges:
            lines += charge_to_insurance(
                charge.fee_cents, ChargeRef(charge.id, client.id, claim.id), insurance
            )
        if claim_plan.n % 500 == 499 or claim_plan is planned[-1]:
            session.flush()
            post_transaction(
                session,
                actor=actor,
                practice_id=ids["practice"],
                kind=TransactionKind.CHARGE,
                accounting_on=claim_plan.service_on,
                lines=lines,
                memo=f"bench charges up to claim {claim_plan.number}",
            )
            lines = []
            session.expunge_all()
            practice, provider, payer = (
                session.get_one(model, ids[key])
                for model, key in ((m.Practice, "practice"), (m.Provider, "provider"), (m.Payer, "payer"))
            )
            actor = f.actor_for(session, session.get_one(m.User, user.id))
            client = session.get_one(m.Client, client.id)
            coverage = session.get_one(m.Coverage, coverage.id)
    session.flush()
    return ids["practice"], user.id


def _best(runs: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """The shortest of ``runs`` timings of ``work`` (wall and CPU seconds of that run) and its
    last answer; garbage is collected between runs."""
    best, cpu, answer = float("inf"), 0.0, None
    for _ in range(runs):
        answer = None
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        answer = work()
        seconds = time.perf_counter() - started
        if seconds < best:
            best, cpu = seconds, time.process_time() - cpu_started
    return best, cpu, answer


def _our_parse(data: bytes) -> list[Remittance]:
    return read_835(decode(data))


def _step(label: str, count: int, seconds: float, cpu: float | None = None, **extra: Any) -> dict[str, Any]:
    """A step's figures; ``cpu`` is this process's CPU seconds for it (the database server's are
    not counted), steadier than the wall clock when other work shares the machine."""
    print(f"  {label}: {count:,} claims in {seconds:.1f} s", file=sys.stderr, flush=True)
    return {
        "seconds": round(seconds, 3),
        **({"cpu_seconds": round(cpu, 3)} if cpu is not None else {}),
        "claims_per_second": round(count / seconds),
        "peak_rss_mb": _peak_rss_mb(),
        **extra,
    }


def child(kind: str, claims: int, folder: Path, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="remittance-bench-") as tmp:
        url, name = new_database(kind, Path(tmp), "remittance")
        engine = make_engine(url)
        try:
            upgrade(engine)
            return _run(engine, url, claims, folder, repeat)
        finally:
            engine.dispose()
            drop_database(name)


def _ingest(factory: Any, practice_id: int, user_id: int, filename: str, data: bytes) -> Any:
    with unit_of_work(factory) as session:
        actor = f.actor_for(session, session.get_one(m.User, user_id))
        return ingest(session, actor=actor, practice_id=practice_id, filename=filename, data=data)


def seed_child(url: str, claims: int) -> dict[str, Any]:
    """Seed the database in a process of its own, so that the measuring child's peak RSS is
    parsing and posting's, not the test factories' (setup, untimed in the targets)."""
    engine = make_engine(url)
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        with unit_of_work(make_session_factory(engine)) as session:
            practice_id, user_id = _seed(session, claims)
        step = _step("seed", claims, time.perf_counter() - started, time.process_time() - cpu_started)
        return {"practice_id": practice_id, "user_id": user_id, "step": step}
    finally:
        engine.dispose()


def _run(engine: sqlalchemy.Engine, url: str, claims: int, folder: Path, repeat: int) -> dict[str, Any]:
    data = (folder / "bench.835").read_bytes()
    result: dict[str, Any] = {"claims": claims, "file_bytes": len(data)}
    seeded = _run_child(["--seed", url, "--claims", str(claims)])
    practice_id, user_id = seeded["practice_id"], seeded["user_id"]
    result["seed"] = {**seeded["step"], "in_its_own_process": True}
    if engine.dialect.name == "sqlite":
        _checkpoint(engine)

    seconds, cpu, remittances = _best(repeat, lambda: _our_parse(data))
    read = sum(len(r.claims) for r in remittances)
    result["parse"] = _step("parse (read_835)", read, seconds, cpu, runs=repeat)
    started, cpu_started = time.perf_counter(), time.process_time()
    for remittance in remittances:
        check_balanced(remittance)
    result["balance_check"] = _step(
        "balance check", read, time.perf_counter() - started, time.process_time() - cpu_started
    )
    del remittances
    result["parse_peak_rss_mb"] = _peak_rss_mb()

    arguments = ["--post", url, "--practice", str(practice_id), "--user", str(user_id)]
    result.update(_run_child([*arguments, "--folder", str(folder), "--claims", str(read)]))
    return result


def _checkpoint(engine: sqlalchemy.Engine) -> None:
    """Fold the seed's write-ahead log into the database file (setup, untimed): the seed is
    one transaction of some 500,000 rows, and a WAL that large left behind slows every read
    of the timed step by a tenth, where a database at rest has been checkpointed."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def post_child(url: str, practice_id: int, user_id: int, folder: Path, read: int) -> dict[str, Any]:
    """Parse + post in a process of its own, so that its peak RSS is parsing and posting's
    (not the parse timings' before it)."""
    engine = make_engine(url)
    try:
        result = _post(make_session_factory(engine), practice_id, user_id, folder, read)
        result["peak_rss_mb"] = _peak_rss_mb()
        return result
    finally:
        engine.dispose()


def _post(factory: Any, practice_id: int, user_id: int, folder: Path, read: int) -> dict[str, Any]:
    """The earlier 835 ingested (untimed), then the big one timed: ``parse_and_post`` with what
    the posting reported, the claims by status after it and whether the ledger check is clean.
    Posting that is not there yet is reported as such; posting that fails is recorded with its
    error (and judged a failure) so that the other figures are kept."""
    try:
        earlier = _ingest(factory, practice_id, user_id, "earlier.835", (folder / "earlier.835").read_bytes())
    except InvalidInput as error:
        if "not ingested yet" not in str(error.detail):
            raise
        print(f"  post: not available yet ({error.detail})", file=sys.stderr, flush=True)
        return {"parse_and_post": {"available": False, "reason": str(error.detail)}}
    result: dict[str, Any] = {"earlier_file": {"status": earlier.status, "summary": _short(earlier.summary)}}
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        ingested = _ingest(factory, practice_id, user_id, "bench.835", (folder / "bench.835").read_bytes())
    except Exception as error:  # recorded, judged a failure; the other figures are kept
        first_line = str(error).splitlines()[0][:300] if str(error) else ""
        print(f"  post: FAILED with {type(error).__name__}: {first_line}", file=sys.stderr, flush=True)
        failed = {"available": True, "error": f"{type(error).__name__}: {first_line}"}
        return {**result, "parse_and_post": failed}
    result["parse_and_post"] = _step(
        "parse + post (ingest)",
        read,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        available=True,
        status=ingested.status,
        summary=_short(ingested.summary),
    )
    with unit_of_work(factory) as session:
        statuses = session.execute(
            select(m.Claim.status, func.count())
            .where(m.Claim.practice_id == practice_id)
            .group_by(m.Claim.status)
        ).all()
        check = check_ledger(session, practice_id)
    result["claims_by_status_after"] = {str(row[0]): int(row[1]) for row in statuses}
    result["ledger_check_clean"] = bool(check.ok)
    print(f"  claims by status after: {result['claims_by_status_after']}", file=sys.stderr, flush=True)
    return result


def _short(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as reported (one entry per payment), save any long list, kept as its length."""
    return {
        key: len(value) if isinstance(value, list) and len(value) > 20 else value
        for key, value in summary.items()
    }


# ----------------------------------------------------------------------------- a parser child


def _x12sdk_parse(data: bytes) -> int:
    from x12sdk.io import X12ModelReader

    claims = 0
    with X12ModelReader(data.decode("latin-1")) as reader:
        for model in reader.models():
            claims += sum(len(getattr(loop, "loop_2100", None) or []) for loop in _loops_2000(model))
    return claims


def _loops_2000(model: Any) -> list[Any]:
    header = getattr(model, "loop_2000", None)
    if header is None:  # x12sdk nests the claim payment loops under its header/detail models
        detail = getattr(model, "detail", None)
        header = getattr(detail, "loop_2000", None) if detail is not None else None
    return list(header or [])


def _oxedi_parse(data: bytes) -> int:
    import oxedi

    return int(oxedi.parse(data).count_claims())


PARSERS: dict[str, Callable[[bytes], int]] = {
    "revcycle": lambda data: sum(len(r.claims) for r in _our_parse(data)),
    "x12sdk": _x12sdk_parse,
    "oxedi": _oxedi_parse,
}
DISTRIBUTIONS = {"revcycle": "revcycle", "x12sdk": "x12sdk", "oxedi": "oxedi"}


def parser_child(name: str, path: Path, repeat: int, expected: int) -> dict[str, Any]:
    """One reader's best parse time of the file, in a process of its own."""
    try:
        version = importlib.metadata.version(DISTRIBUTIONS[name])
        parse = PARSERS[name]
        if name != "revcycle":
            __import__(name)
    except (ImportError, importlib.metadata.PackageNotFoundError) as error:
        reason = (
            f"{name} is not installed in this environment ({error}); `make bench` installs it into "
            ".venv-bench from bench/requirements-peers.txt"
        )
        return {"available": False, "reason": reason}
    data = path.read_bytes()
    seconds, cpu, read = _best(repeat, lambda: parse(data))
    return {
        "available": True,
        "version": version,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "claims_read": read,
        "claims_per_second": round(expected / seconds),
        "read_every_claim": read == expected,
        "runs": repeat,
        "peak_rss_mb": _peak_rss_mb(),
    }


# ----------------------------------------------------------------------------- the parent


def _verdicts(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target: what it asks, what was measured, and whether it held; a target whose
    figures are missing (a peer unavailable, posting not there yet) is recorded, not judged."""
    verdicts: dict[str, dict[str, Any]] = {}
    parsers = results.get("parsers", {})
    ours, oxedi, x12sdk = (parsers.get(name, {}) for name in ("revcycle", "oxedi", "x12sdk"))
    if ours.get("available") and oxedi.get("available"):
        ratio = ours["seconds"] / oxedi["seconds"]
        verdicts["parse_vs_oxedi"] = {
            "target": f"our parse time / oxedi's <= {MAX_PARSE_VS_OXEDI:g}",
            "measured": round(ratio, 2),
            "pass": ratio <= MAX_PARSE_VS_OXEDI,
            "cpu_ratio": round(ours["cpu_seconds"] / oxedi["cpu_seconds"], 2)
            if oxedi["cpu_seconds"]
            else None,
        }
    else:
        verdicts["parse_vs_oxedi"] = {
            "target": f"<= {MAX_PARSE_VS_OXEDI:g}",
            "measured": None,
            "pass": None,
            "why": oxedi.get("reason") or ours.get("reason") or "not run",
        }
    post = results.get("sqlite", {}).get("parse_and_post", {})
    if post.get("error"):
        verdicts["sqlite_post_vs_x12sdk_parse"] = {
            "target": "our parse + post on SQLite / x12sdk's parse alone < 1",
            "measured": f"posting failed: {post['error']}",
            "pass": False,
        }
    elif post.get("available") and x12sdk.get("available"):
        ratio = post["seconds"] / x12sdk["seconds"]
        verdicts["sqlite_post_vs_x12sdk_parse"] = {
            "target": "our parse + post on SQLite / x12sdk's parse alone < 1",
            "measured": round(ratio, 2),
            "pass": ratio < 1,
        }
    else:
        why = post.get("reason") or x12sdk.get("reason") or "not run"
        verdicts["sqlite_post_vs_x12sdk_parse"] = {
            "target": "< 1",
            "measured": None,
            "pass": None,
            "why": why,
        }
    for kind in ("sqlite", "postgresql"):
        if kind in results:
            peak = results[kind]["peak_rss_mb"]
            verdicts[f"{kind}_peak_rss_mb"] = {
                "target": f"< {MAX_PEAK_RSS_MB} MB",
                "measured": peak,
                "pass": peak < MAX_PEAK_RSS_MB,
            }
    return verdicts


def _print_verdicts(verdicts: dict[str, dict[str, Any]]) -> None:
    for name, verdict in verdicts.items():
        if verdict["pass"] is None:
            print(f"NOT JUDGED {name}: {verdict['why']}", file=sys.stderr)
        else:
            word = "PASS" if verdict["pass"] else "FAIL"
            print(f"{word} {name}: {verdict['measured']:,} ({verdict['target']})", file=sys.stderr)


def _print_figures(results: dict[str, Any]) -> None:
    for name, parsed in results.get("parsers", {}).items():
        if parsed.get("available"):
            print(
                f"  parse {name} {parsed['version']}: {parsed['seconds']:.2f} s, "
                f"{parsed['claims_per_second']:,} claims/s, peak {parsed['peak_rss_mb']} MB"
                + ("" if parsed["read_every_claim"] else f" (read {parsed['claims_read']:,} claims!)"),
                file=sys.stderr,
            )
        else:
            print(f"  parse {name}: unavailable — {parsed['reason']}", file=sys.stderr)
    for kind in ("sqlite", "postgresql"):
        run = results.get(kind)
        if not run:
            continue
        post = run["parse_and_post"]
        if post.get("error"):
            posted = f"FAILED ({post['error']})"
        elif post.get("available"):
            posted = f"{post['seconds']:.1f} s, {post['claims_per_second']:,} claims/s"
        else:
            posted = "not available yet"
        print(
            f"  {kind}: parse {run['parse']['claims_per_second']:,} claims/s; post: {posted}; "
            f"peak {run['peak_rss_mb']} MB",
            file=sys.stderr,
        )


def _run_child(arguments: list[str]) -> dict[str, Any]:
    command = [sys.executable, __file__, *arguments]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=FULL_CLAIMS)
    parser.add_argument("--repeat", type=int, default=3, help="parse runs; the best counts")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--child", choices=("sqlite", "postgresql"))
    parser.add_argument("--parser", choices=tuple(PARSERS))
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--seed", metavar="URL", help="seed the database at URL (a child of the run)")
    parser.add_argument("--post", metavar="URL", help="parse and post into the database at URL (a child)")
    parser.add_argument("--practice", type=int)
    parser.add_argument("--user", type=int)
    args = parser.parse_args()
    if args.post:
        print(json.dumps(post_child(args.post, args.practice, args.user, args.folder, args.claims)))
        return 0
    if args.seed:
        print(json.dumps(seed_child(args.seed, args.claims)))
        return 0
    if args.child:
        print(json.dumps(child(args.child, args.claims, args.folder, args.repeat)))
        return 0
    if args.parser:
        print(json.dumps(parser_child(args.parser, args.folder / "bench.835", args.repeat, args.claims)))
        return 0
    results: dict[str, Any] = {
        "benchmark": "remittance",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}, {os.cpu_count()} CPUs",
        "versions": {"sqlalchemy": sqlalchemy.__version__, "sqlite": __import__("sqlite3").sqlite_version},
        "claims": args.claims,
        "repeat": args.repeat,
        "load_average_at_start": os.getloadavg(),
        "targets": {
            "max_parse_vs_oxedi": MAX_PARSE_VS_OXEDI,
            "sqlite_post_vs_x12sdk_parse": "< 1",
            "max_peak_rss_mb": MAX_PEAK_RSS_MB,
        },
    }
    with tempfile.TemporaryDirectory(prefix="remittance-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        prior, data, counts = files(args.claims)
        results["file"] = {
            "write_seconds": round(time.perf_counter() - started, 2),
            "bytes": len(data),
            "segments": data.count(b"~"),
            "clp_by_kind": counts,
        }
        print(f"== file: {len(data):,} bytes, {counts}", file=sys.stderr, flush=True)
        (folder / "earlier.835").write_bytes(prior)
        (folder / "bench.835").write_bytes(data)
        common = ["--claims", str(args.claims), "--folder", str(folder), "--repeat", str(args.repeat)]
        kinds = [
            k for k, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_postgres)) if not skip
        ]
        for kind in kinds:
            print(f"== {kind}", file=sys.stderr, flush=True)
            results[kind] = _run_child(["--child", kind, *common])
        if not args.skip_peers:
            results["parsers"] = {}
            for name in ("revcycle", *PEERS):
                print(f"== parse: {name}", file=sys.stderr, flush=True)
                results["parsers"][name] = _run_child(["--parser", name, *common])
    results["load_average"] = os.getloadavg()
    name = "remittance.json" if args.claims == FULL_CLAIMS else f"remittance-{args.claims}.json"
    path = HERE / "results" / name
    if path.exists():  # what was skipped this time keeps its previous figures
        previous = json.loads(path.read_text())
        for key in ("sqlite", "postgresql", "parsers"):
            if key not in results and key in previous:
                results[key] = previous[key]
                results.setdefault("kept_from_previous_run", {})[key] = previous.get("run_at")
    _print_figures(results)
    results["verdicts"] = _verdicts(results)
    _print_verdicts(results["verdicts"])
    judged = [v["pass"] for v in results["verdicts"].values() if v["pass"] is not None]
    results["all_targets_met"] = all(judged)
    results["targets_not_judged"] = [k for k, v in results["verdicts"].items() if v["pass"] is None]
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved results/{name}", file=sys.stderr)
    return 0 if all(judged) else 1


if __name__ == "__main__":
    sys.exit(main())
