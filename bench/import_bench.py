"""Import throughput: a generated AR portfolio and SimplePractice export, on SQLite and PostgreSQL.

For each database, in a child process of its own (so that peak memory is that database's run):

1. **AR portfolio** (default 1,000,000 rows): stage it (read, parse, COPY/executemany into
   ``staged_ar_rows``, outcomes) and commit it (payers, providers, teams, clients, guarantors,
   coverages, claims, lines, claim events, opening-balance transactions, postings, balance rows,
   flags about the payers and clinicians new to the practice), each in one unit of
   work, timed; then ``check_ledger`` must be clean and ``ar:insurance`` must equal the file's
   balance sum to the cent.
2. **Bare load**, measured in the same run: every row the commit wrote to those tables is
   dumped (untimed), then loaded straight into the same tables of a fresh, migrated database
   (COPY on PostgreSQL, executemany on SQLite) in one transaction, timed. The ratio
   commit / bare is the import's overhead over the fastest possible write of its result.
3. **SimplePractice export** (default 100,000 rows) through ``services.imports.batches``:
   stage + commit, then the same file again (all unchanged): the re-import's share of the
   first import's time.

Targets (exit status 1 when one is missed): commit <= 3x bare load; peak RSS < 500 MB;
re-import < 25% of the first import. Figures go to ``results/import.json`` (full size) or
``results/import-<rows>.json`` (``--rows N``).

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--sp-rows 100000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import pickle
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from revcycle.adapters.csv import ImportFormat, parse, read_csv
from revcycle.db import models as m
from revcycle.db.engine import make_engine, make_session_factory, unit_of_work
from revcycle.db.migrate import upgrade
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.npi import make_npi
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.imports.ar_portfolio import ArPortfolioHandler

HERE = Path(__file__).resolve().parent
PG_SERVER = os.environ.get("REVCYCLE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FULL_ROWS = 1_000_000
FULL_SP_ROWS = 100_000
TODAY = date(2026, 6, 30)
TARGET_RATIO = 3.0
TARGET_RSS_MB = 500
TARGET_REIMPORT_SHARE = 0.25
# The tables an AR commit writes, in foreign-key order (what the bare load writes too).
WRITTEN = (
    "clients",
    "guarantors",
    "coverages",
    "claims",
    "claim_lines",
    "claim_events",
    "notes",
    "ledger_transactions",
    "postings",
    "ledger_balances",
    "work_items",
)
# What those rows refer to: copied into the bare database first, untimed (payers, providers
# and teams are the few reference rows the commit creates through the ORM).
REFERENCED = ("organizations", "practices", "users", "payers", "payer_aliases", "providers", "teams")

# --- generated files ----------------------------------------------------------------------------

_FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
]
_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
]
_PAYERS = [
    ("Aetna", "60054"),
    ("Cigna", "62308"),
    ("UnitedHealthcare", "87726"),
    ("Humana", "61101"),
    ("Blue Cross Blue Shield of Texas", "G84980"),
    ("Horizon Blue Cross Blue Shield of New Jersey", "22099"),
    ("Medicare Part B", ""),
    ("Novitas Solutions", "12502"),
    ("NJ FamilyCare", ""),
    ("Medi-Cal", "MCDCA"),
    ("MassHealth", "DMA7384"),
    ("Tricare East", "99727"),
    ("Oscar Health", "OSCAR"),
    ("Optum Behavioral", "87726"),
    ("Magellan", "01260"),
    ("Beacon Health Options", "43324"),
    ("AmeriHealth", "95044"),
    ("Oxford", "06111"),
    ("Kaiser Permanente", "94134"),
    ("Anthem", "00227"),
]
_CODES = ["90837", "90834", "90832", "90791", "90847", "96130"]
_PROVIDERS = [f"{first} {last}" for first, last in zip(_FIRST[:12], _LAST[12:24], strict=True)]


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def write_ar_portfolio(path: Path, rows: int, seed: int = 7) -> int:
    """A deterministic AR aging export; returns the sum of its balances in cents."""
    rng = random.Random(seed)
    patients = max(rows // 4, 1)
    total = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "Claim ID",
                "Patient Name",
                "Payer",
                "Payer ID",
                "Member ID",
                "DOS",
                "CPT",
                "Rendering Provider",
                "Billed",
                "Balance",
                "Aging Days",
            ]
        )
        for n in range(rows):
            patient = rng.randrange(patients)
            first, last = _FIRST[patient % 40], _LAST[(patient // 40) % 40]
            name = f"{last}, {first} {patient // 1600}" if n % 2 else f"{first} {patient // 1600} {last}"
            payer, payer_id = _PAYERS[patient % len(_PAYERS)]
            billed = rng.choice((9_000, 12_500, 15_000, 18_000, 25_000, 150_000, 303_366))
            roll = rng.random()
            balance = (
                0
                if roll < 0.01
                else -rng.randrange(100, 5_000)
                if roll < 0.03
                else rng.randrange(1, billed + 1)
            )
            total += balance
            age = rng.randrange(0, 400)
            writer.writerow(
                [
                    f"CLM{n:09d}" if n % 1000 else f"LEGACY-PORTFOLIO-CLAIM-{n:012d}",
                    name,
                    payer,
                    payer_id,
                    f"M{patient:08d}",
                    (TODAY - timedelta(days=age)).strftime("%m/%d/%Y"),
                    rng.choice(_CODES),
                    _PROVIDERS[n % 12],
                    _amount(billed),
                    _amount(balance),
                    age if n % 2 else "",
                ]
            )
    return total


_SP_HEADER = (
    "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,"
    "Units,Total Fee,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,"
    "Charge,Paid,Unpaid,Progress Note Status"
)


def write_simplepractice(path: Path, rows: int, seed: int = 11) -> None:
    """A deterministic SimplePractice appointment status export: distinct sessions."""
    rng = random.Random(seed)
    clinicians = 40
    start = datetime(2025, 1, 1, 8)
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write(_SP_HEADER + "\n")
        writer = csv.writer(out)
        for n in range(rows):
            clinician = n % clinicians
            slot = n // clinicians
            moment = start + timedelta(days=slot // 9, hours=slot % 9)
            client = rng.randrange(5_000)
            payer, payer_id = _PAYERS[client % 12]
            fee = rng.choice((150, 160, 175))
            copay = rng.choice((0, 20, 30))
            writer.writerow(
                [
                    moment.strftime("%m/%d/%Y %H:%M"),
                    f"{_FIRST[client % 40]} {_LAST[client // 40 % 40]} {client // 1600}",
                    f"{_FIRST[clinician]} {_LAST[39 - clinician]}",
                    rng.choice(_CODES) + " ",
                    f"{payer} ({payer_id or '00000'})",
                    "--",
                    f"{fee}.0 ",
                    "1",
                    f"{fee}.0",
                    "PAID" if copay else "NO CHARGE",
                    f"{copay}.0",
                    "0",
                    f"{copay}.0",
                    "0",
                    "PAID",
                    f"{fee - copay}.0",
                    f"{fee - copay}.0",
                    "0",
                    "LOCKED",
                ]
            )


# --- databases ---------------------------------------------------------------------------------------


def _new_database(kind: str, tmp: Path, label: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/{label}.db", None
    name = f"revcycle_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}", name


def _drop(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _practice(session: Session) -> int:
    org = m.Organization(name="Bench billing company", kind="billing_company")
    practice = m.Practice(organization=org, name="Bench practice", group_npi=make_npi("123456789"))
    session.add(practice)
    session.flush()
    for n in range(40):
        session.add(
            m.Provider(
                practice_id=practice.id,
                first_name=_FIRST[n],
                last_name=_LAST[39 - n],
                npi=make_npi(f"{200000000 + n}"),
            )
        )
    session.flush()
    return practice.id


# --- the AR portfolio ---------------------------------------------------------------------------------


def _ar_import(engine: Engine, practice_id: int, path: Path, expected_cents: int) -> dict[str, Any]:
    factory = make_session_factory(engine)
    actor = system_actor("bench")
    handler = ArPortfolioHandler(today=lambda: TODAY)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        batch = m.ImportBatch(practice_id=practice_id, format="ar_aging", filename=path.name)
        session.add(batch)
        session.flush()
        counts = handler.stage(session, batch, parse(read_csv(path), ImportFormat.AR_AGING), actor=actor)
        batch_id = batch.id
    stage_s = time.perf_counter() - started
    stage_rss = _peak_rss_mb()
    print(f"  staged {counts['rows']:,} rows in {stage_s:.1f} s", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        batch = session.get_one(m.ImportBatch, batch_id)
        written = handler.commit(session, batch, actor=actor)
    commit_s = time.perf_counter() - started
    commit_rss = _peak_rss_mb()
    print(f"  committed in {commit_s:.1f} s: {written}", file=sys.stderr, flush=True)
    if engine.dialect.name == "postgresql":
        # Fresh statistics, as autovacuum would gather after a bulk load: check_ledger's
        # GROUP BY joins are planned from them.
        with engine.begin() as conn:
            for table in ("ledger_balances", "postings", "ledger_transactions", "claims"):
                conn.execute(text(f"ANALYZE {table}"))
    with unit_of_work(factory) as session:
        started = time.perf_counter()
        check = ledger.check_ledger(session, practice_id)
        check_s = time.perf_counter() - started
        ar = ledger.balance(session, practice_id, BalanceScope.ACCOUNT, None, Account.AR_INSURANCE)
    rows = counts["rows"]
    return {
        "rows": rows,
        "counts": dict(counts),
        "written": written,
        "stage_seconds": round(stage_s, 2),
        "stage_rows_per_second": round(rows / stage_s),
        "commit_seconds": round(commit_s, 2),
        "commit_rows_per_second": round(rows / commit_s),
        "peak_rss_mb_after_stage": stage_rss,
        "peak_rss_mb_after_commit": commit_rss,
        "ledger_check_seconds": round(check_s, 2),
        "ledger_check_ok": check.ok,
        "ar_insurance_matches_file": ar == expected_cents,
    }


# --- the bare load -------------------------------------------------------------------------------------


def _columns(engine: Engine, table: str) -> list[str]:
    return [column.name for column in m.Base.metadata.tables[table].columns]


def _dump(engine: Engine, tables: tuple[str, ...], folder: Path) -> dict[str, int]:
    """Every row of ``tables``, to files the bare load reads (binary COPY / pickled chunks)."""
    counts = {}
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for table in tables:
            names = ", ".join(_columns(engine, table))
            counts[table] = conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0
            target = folder / table
            if engine.dialect.name == "postgresql":
                with raw.cursor() as cursor, target.open("wb") as out:  # type: ignore[union-attr]
                    query = f"COPY (SELECT {names} FROM {table} ORDER BY id) TO STDOUT (FORMAT BINARY)"
                    if table == "practices" or table == "organizations":
                        query = query.replace(" ORDER BY id", "")
                    with cursor.copy(query) as copy:
                        for data in copy:
                            out.write(data)
                continue
            cursor = raw.cursor()  # type: ignore[union-attr]
            cursor.execute(f"SELECT {names} FROM {table} ORDER BY rowid")
            with target.open("wb") as out:
                while chunk := cursor.fetchmany(50_000):
                    pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
            cursor.close()
    return counts


def _load(engine: Engine, tables: tuple[str, ...], folder: Path) -> None:
    """Load the dumped rows straight into the same tables, in one transaction."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        for table in tables:
            names = ", ".join(_columns(engine, table))
            source = folder / table
            if engine.dialect.name == "postgresql":
                statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
                with (
                    raw.cursor() as cursor,  # type: ignore[union-attr]
                    source.open("rb") as data,
                    cursor.copy(statement) as copy,
                ):
                    while block := data.read(1 << 20):
                        copy.write(block)
                continue
            marks = ", ".join("?" for _ in _columns(engine, table))
            cursor = raw.cursor()  # type: ignore[union-attr]
            with source.open("rb") as data:
                for chunk in _chunks(data):
                    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk)
            cursor.close()


def _chunks(data: Any) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        try:
            yield pickle.load(data)
        except EOFError:
            return


def _bare_load(kind: str, source: Engine, tmp: Path) -> dict[str, Any]:
    folder = tmp / f"dump-{kind}"
    folder.mkdir()
    counts = _dump(source, REFERENCED + WRITTEN, folder)
    url, name = _new_database(kind, tmp, "bare")
    engine = make_engine(url)
    try:
        upgrade(engine)
        _load(engine, REFERENCED, folder)
        started = time.perf_counter()
        _load(engine, WRITTEN, folder)
        bare_s = time.perf_counter() - started
    finally:
        engine.dispose()
        _drop(name)
    rows = sum(counts[table] for table in WRITTEN)
    print(f"  bare load of {rows:,} rows in {bare_s:.1f} s", file=sys.stderr, flush=True)
    return {
        "bare_rows": rows,
        "bare_rows_by_table": {table: counts[table] for table in WRITTEN},
        "bare_seconds": round(bare_s, 2),
        "bare_rows_per_second": round(rows / bare_s),
    }


# --- the SimplePractice export -------------------------------------------------------------------------


def _simplepractice(engine: Engine, practice_id: int, path: Path) -> dict[str, Any]:
    try:
        from revcycle.services.imports.batches import commit_import, stage_import
    except ImportError as exc:
        return {"status": f"not yet available ({exc})"}
    factory = make_session_factory(engine)
    actor = system_actor("bench")
    data = path.read_bytes()
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            batch = stage_import(
                session,
                actor=actor,
                practice_id=practice_id,
                filename=path.name,
                data=data,
                format=ImportFormat.SIMPLEPRACTICE,
            )
            counts = dict(batch.counts)
            batch_id = batch.id
        staged = time.perf_counter() - started
        with unit_of_work(factory) as session:
            commit_import(session, actor=actor, batch_id=batch_id)
        total = time.perf_counter() - started
        runs.append({"stage_seconds": round(staged, 2), "total_seconds": round(total, 2), "counts": counts})
        print(f"  simplepractice import in {total:.1f} s: {counts}", file=sys.stderr, flush=True)
    first, again = runs
    return {
        "status": "measured",
        "first_import": first,
        "reimport": again,
        "reimport_share": round(again["total_seconds"] / first["total_seconds"], 3),
    }


# --- one database, in its own process -------------------------------------------------------------------


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(kind: str, ar_path: Path, expected_cents: int, sp_path: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp_name:
        tmp = Path(tmp_name)
        url, name = _new_database(kind, tmp, "import")
        engine = make_engine(url)
        try:
            upgrade(engine)
            with unit_of_work(make_session_factory(engine)) as session:
                practice_id = _practice(session)
            result: dict[str, Any] = {"peak_rss_mb_after": {"setup": _peak_rss_mb()}}
            result["ar_portfolio"] = _ar_import(engine, practice_id, ar_path, expected_cents)
            result["peak_rss_mb_after"]["ar_import"] = _peak_rss_mb()
            result["bare_load"] = _bare_load(kind, engine, tmp)
            result["peak_rss_mb_after"]["bare_load"] = _peak_rss_mb()
            ar, bare = result["ar_portfolio"], result["bare_load"]
            result["commit_to_bare_ratio"] = round(ar["commit_seconds"] / bare["bare_seconds"], 2)
            if sp_path is not None:
                result["simplepractice"] = _simplepractice(engine, practice_id, sp_path)
                result["peak_rss_mb_after"]["simplepractice"] = _peak_rss_mb()
        finally:
            engine.dispose()
            _drop(name)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    return result


def _run_child(kind: str, ar_path: Path, expected: int, sp_path: Path | None) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--ar-file",
        str(ar_path),
        "--expected",
        str(expected),
    ]
    if sp_path is not None:
        command += ["--sp-file", str(sp_path)]
    print(f"== {kind}", file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _misses(kind: str, result: dict[str, Any]) -> list[str]:
    misses = []
    ar = result["ar_portfolio"]
    if not (ar["ledger_check_ok"] and ar["ar_insurance_matches_file"]):
        misses.append(f"{kind}: the ledger does not match the file")
    if result["commit_to_bare_ratio"] > TARGET_RATIO:
        misses.append(
            f"{kind}: commit takes {result['commit_to_bare_ratio']}x the bare load (target {TARGET_RATIO}x)"
        )
    # The target is the AR import's (stage, commit, ledger check); the bare load and the
    # SimplePractice import run later in the same process and are reported beside it.
    peak = result["peak_rss_mb_after"]["ar_import"]
    if peak >= TARGET_RSS_MB:
        misses.append(f"{kind}: AR import peak RSS {peak} MB (target < {TARGET_RSS_MB} MB)")
    sp = result.get("simplepractice", {})
    if sp.get("status") == "measured" and sp["reimport_share"] >= TARGET_REIMPORT_SHARE:
        share = sp["reimport_share"]
        misses.append(f"{kind}: re-import takes {share:.0%} of the first import (target < 25%)")
    return misses


def _keep_skipped(path: Path, results: dict[str, Any], skipped: list[str]) -> None:
    """A database skipped this time keeps its figures from the previous run of the same size."""
    if not path.exists():
        return
    previous = json.loads(path.read_text())
    for kind in skipped:
        if kind in previous:
            results[kind] = {**previous[kind], "run_at": previous.get("run_at")}
            results["targets_missed"] += [
                miss for miss in previous.get("targets_missed", []) if miss.startswith(kind)
            ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--sp-rows", type=int, default=FULL_SP_ROWS)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--child", choices=("sqlite", "postgresql"))
    parser.add_argument("--ar-file", type=Path)
    parser.add_argument("--sp-file", type=Path)
    parser.add_argument("--expected", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        # Each commit step's time, on stderr.
        logging.basicConfig(stream=sys.stderr, format="    %(message)s")
        logging.getLogger("revcycle.services.imports.ar_portfolio").setLevel(logging.DEBUG)
        print(json.dumps(child(args.child, args.ar_file, args.expected, args.sp_file)))
        return 0
    results: dict[str, Any] = {
        "benchmark": "import",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}, {os.cpu_count()} CPUs",
        "versions": {"sqlalchemy": sqlalchemy.__version__, "sqlite": __import__("sqlite3").sqlite_version},
        "ar_rows": args.rows,
        "simplepractice_rows": args.sp_rows,
        "targets": {
            "commit_to_bare_ratio_max": TARGET_RATIO,
            "peak_rss_mb_max": TARGET_RSS_MB,
            "reimport_share_max": TARGET_REIMPORT_SHARE,
        },
    }
    with tempfile.TemporaryDirectory(prefix="import-files-") as tmp_name:
        tmp = Path(tmp_name)
        ar_path, sp_path = tmp / "ar_portfolio.csv", tmp / "simplepractice.csv"
        started = time.perf_counter()
        expected = write_ar_portfolio(ar_path, args.rows)
        write_simplepractice(sp_path, args.sp_rows)
        results["generate_seconds"] = round(time.perf_counter() - started, 1)
        results["ar_file_mb"] = round(ar_path.stat().st_size / 1e6, 1)
        results["ar_balance_cents"] = expected
        kinds = [
            k for k, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_postgres)) if not skip
        ]
        for kind in kinds:
            results[kind] = _run_child(kind, ar_path, expected, sp_path if args.sp_rows else None)
            print(json.dumps({kind: results[kind]}, indent=1), flush=True)
    results["load_average"] = os.getloadavg()
    misses = [miss for kind in kinds for miss in _misses(kind, results[kind])]
    results["targets_missed"] = misses
    name = "import.json" if args.rows == FULL_ROWS else f"import-{args.rows}.json"
    path = HERE / "results" / name
    _keep_skipped(path, results, [k for k in ("sqlite", "postgresql") if k not in kinds])
    path.write_text(json.dumps(results, indent=2) + "\n")
    for miss in misses:
        print(f"MISSED: {miss}")
    print(f"saved results/{name}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
