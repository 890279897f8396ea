"""Ledger throughput and `ledger check` time, on SQLite and PostgreSQL.

Posts N charge histories through `services.ledger.post_transaction` (charge billed,
insurance payment, contractual adjustment, transfer to patient, patient payment: five
transactions and ten postings each, every one audited), then recomputes every balance with
`check_ledger`. Prints the figures and writes them to bench/results/ledger.json.

    .venv/bin/python bench/ledger_bench.py [--histories 4000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.engine import make_engine, make_session_factory, unit_of_work
from revcycle.db.migrate import upgrade
from revcycle.domain import ledger_events as ev
from revcycle.domain.npi import make_npi
from revcycle.services.actor import system_actor
from revcycle.services.ledger import check_ledger, post_transaction

RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 200  # histories per unit of work


def _reference_rows(session: Session, histories: int) -> list[tuple[int, int, int, int, int, int]]:
    org = m.Organization(name="Bench")
    practice = m.Practice(organization=org, name="Bench practice", group_npi=make_npi("123456789"))
    payer = m.Payer(name="Bench payer", edi_payer_id="99999")
    session.add_all([practice, payer])
    session.flush()
    provider = m.Provider(practice_id=practice.id, first_name="B", last_name="P", npi=make_npi("198765432"))
    session.add(provider)
    session.flush()
    refs = []
    for n in range(histories):
        client = m.Client(practice_id=practice.id, first_name="C", last_name=f"{n}")
        session.add(client)
        session.flush()
        guarantor = m.Guarantor(
            practice_id=practice.id, client_id=client.id, first_name="C", last_name=f"{n}"
        )
        coverage = m.Coverage(
            practice_id=practice.id, client_id=client.id, payer_id=payer.id, member_id=f"M{n}"
        )
        visit = m.ServiceSession(
            practice_id=practice.id,
            client_id=client.id,
            provider_id=provider.id,
            starts_at=datetime(2026, 1, 5, 14, tzinfo=UTC),
            service_on=date(2026, 1, 5),
        )
        session.add_all([guarantor, coverage, visit])
        session.flush()
        charge = m.Charge(
            practice_id=practice.id, session_id=visit.id, procedure_code="90837", fee_cents=16000
        )
        session.add(charge)
        session.flush()
        refs.append((practice.id, payer.id, client.id, guarantor.id, coverage.id, charge.id))
    return refs


def _post_history(session: Session, ref: tuple[int, int, int, int, int, int]) -> None:
    practice_id, payer_id, client_id, guarantor_id, coverage_id, charge_id = ref
    actor = system_actor("bench")
    charge = ev.ChargeRef(charge_id=charge_id, client_id=client_id)
    insurance = ev.InsuranceRef(coverage_id=coverage_id, payer_id=payer_id)
    events = [
        ("charge", ev.charge_to_insurance(16000, charge, insurance)),
        ("insurance_payment", ev.insurance_payment(9000, charge, insurance)),
        ("contractual_adjustment", ev.contractual_adjustment(4000, charge, insurance)),
        ("transfer_to_patient", ev.transfer_to_patient(3000, charge, insurance, guarantor_id=guarantor_id)),
        ("patient_payment", ev.patient_payment(3000, charge, guarantor_id=guarantor_id)),
    ]
    for kind, lines in events:
        post_transaction(
            session,
            actor=actor,
            practice_id=practice_id,
            kind=kind,
            accounting_on=date(2026, 2, 1),
            lines=lines,
            idempotency_key=f"{kind}:{charge_id}",
        )


def run(url: str, histories: int) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        refs = _reference_rows(session, histories)
    started = time.perf_counter()
    for start in range(0, len(refs), BATCH):
        with unit_of_work(factory) as session:
            for ref in refs[start : start + BATCH]:
                _post_history(session, ref)
    post_s = time.perf_counter() - started
    with unit_of_work(factory) as session:
        started = time.perf_counter()
        report = check_ledger(session)
        check_s = time.perf_counter() - started
        postings = session.scalar(text("SELECT count(*) FROM postings"))
    engine.dispose()
    if not report.ok:
        raise SystemExit(f"ledger check failed: {report.problems()[:3]}")
    transactions = histories * 5
    return {
        "histories": histories,
        "transactions": transactions,
        "postings": postings,
        "post_seconds": round(post_s, 2),
        "transactions_per_second": round(transactions / post_s, 1),
        "ledger_check_seconds": round(check_s, 3),
    }


def _postgres_url() -> tuple[str, str]:
    name = f"revcycle_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_SERVER.rsplit("/", 1)[0] + f"/{name}"


def _drop(name: str) -> None:
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--histories", type=int, default=4000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "ledger",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{tmp}/bench.db", args.histories)
        print("sqlite    ", results["sqlite"])
    if not args.skip_postgres:
        name, url = _postgres_url()
        try:
            results["postgresql"] = run(url, args.histories)
            print("postgresql", results["postgresql"])
        finally:
            _drop(name)
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("peak RSS MiB", results["peak_rss_mib"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
