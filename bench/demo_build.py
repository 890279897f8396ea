"""Time the full-size demo build on a fresh SQLite file.

    .venv/bin/python bench/demo_build.py [--seed 7] [--scale 1.0] [--today 2026-11-25]

Migrates a new database in a temporary directory, builds the demo in one unit of work (as
`revcycle demo` does), prints the figures and writes them to bench/results/demo_build.json.
Wall time depends on what else the machine is doing; CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy

from revcycle.db.engine import make_engine, make_session_factory, unit_of_work
from revcycle.db.migrate import upgrade
from revcycle.services.demo import build_demo

RESULTS = Path(__file__).resolve().parent / "results" / "demo_build.json"
TARGET_S = 90.0  # clients and sessions come through the CSV import since issue 3, point 9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.db"
        engine = make_engine(f"sqlite:///{path}")
        started = time.perf_counter()
        upgrade(engine)
        migrated = time.perf_counter()
        cpu_started = time.process_time()
        with unit_of_work(make_session_factory(engine)) as session:
            summary = build_demo(session, seed=args.seed, scale=args.scale, today=args.today)
            built = time.perf_counter()
        committed = time.perf_counter()
        cpu_s = time.process_time() - cpu_started
        engine.dispose()
        size_bytes = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob("demo.db-*") if p.exists()
        )
    figures = {
        "benchmark": "demo_build",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "scale": args.scale,
        "database": "sqlite (file)",
        "migrate_s": round(migrated - started, 2),
        "build_s": round(built - migrated, 2),
        "commit_s": round(committed - built, 2),
        "total_s": round(committed - started, 2),
        "build_and_commit_cpu_s": round(cpu_s, 2),
        "target_s": TARGET_S,
        "within_target": (committed - migrated) < TARGET_S,
        "database_bytes": size_bytes,
        "rows": {k: v for k, v in asdict(summary).items() if isinstance(v, int) and not isinstance(v, bool)},
        "sessions_by_month": summary.sessions_by_month,
        "claims_by_status": summary.claims_by_status,
        "machine": {
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "sqlite": __import__("sqlite3").sqlite_version,
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "platform": platform.platform(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(
        f"demo build: {figures['build_s']} s build + {figures['commit_s']} s commit "
        f"({figures['build_and_commit_cpu_s']} s CPU; target {TARGET_S:.0f} s), "
        f"migrate {figures['migrate_s']} s, database {size_bytes / 1e6:.1f} MB"
    )
    for name, value in figures["rows"].items():
        print(f"  {name:<22} {value:>8,}")
    print(f"  sessions by month      {' '.join(map(str, summary.sessions_by_month))}")
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    if not figures["within_target"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
