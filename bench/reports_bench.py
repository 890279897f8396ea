"""The dashboard and the aging report on 1,000,000 sessions, on PostgreSQL (issue 8, point 6).

Generates one practice (15 clinicians, 20 payers, 20,000 clients each with a guarantor and a
coverage) and its sessions over the 24 months ending today, set-based (``INSERT ... SELECT
... FROM generate_series``, no ORM, no services): each session a charge; most sessions a
one-line claim in a status that follows its age (submitted, accepted, adjudicated, paid,
denied, rejected then resent and paid); submissions, claim events, denials; insurance
payments (one EFT per payer and day) and patient payments; and the ledger they post: per
event one transaction of two postings that sum to zero (charge, insurance payment,
contractual adjustment, transfer to the patient, patient payment, as
``domain.ledger_events`` writes them), and the balance rows of the account, claim, client and
payer scopes recomputed from the postings (the charge scope is left out: no report reads it).
The generated ledger is checked (every transaction sums to zero; claim and account balance
rows equal the postings) and ``ANALYZE`` runs before measuring.

It measures first 100,000 sessions, then tops up to 1,000,000 (the same 24 months, ten times
as dense) and measures again. Each figure is the first (cold) run and the median of 5 warm
runs: ``services.dashboard.practice_dashboard`` (which computes ``services.kpis.compute_kpis``
too), ``compute_kpis`` alone, ``services.reports.aging.aging_report`` (service basis, by payer,
the page's 300 listed claims) and the pages ``/dashboard`` and ``/reports/aging`` through
FastAPI's TestClient signed in as an administrator of the practice.

Targets (exit 1 when missed): each under 1 s at 1,000,000 sessions (median of 5), and the
1M / 100k ratio of each at most 3.

    .venv/bin/python bench/reports_bench.py [--sessions 1000000] [--first 100000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy import Date, cast, create_engine, event, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.db.engine import make_engine, make_session_factory
from revcycle.db.migrate import upgrade
from revcycle.domain.permissions import Role
from revcycle.services import kpis, timely_filing
from revcycle.services.actor import Actor
from revcycle.services.dashboard import practice_dashboard
from revcycle.services.kpis import compute_kpis
from revcycle.services.passwords import hash_password
from revcycle.services.reports.aging import aging_filters, aging_report
from revcycle.web.app import create_app

RESULTS = Path(__file__).resolve().parent / "results" / "reports.json"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PRACTICE = 1
PROVIDERS = 15
PAYERS = 20
CLIENTS = 20_000
DAYS = 730
WARM_RUNS = 5
STATEMENT_TIMEOUT_S = 60  # a statement running longer is cancelled and the measure ends
TARGET_SECONDS = 1.0
TARGET_GROWTH = 3.0
PAGE_CLAIMS = 300  # what /reports/aging lists (web.pages.reports.PAGE_CLAIMS)
ADMIN_EMAIL = "admin@bench.test"
PASSWORD = "correct horse battery staple"
INSURANCE_PAYMENT_IDS = 50_000_000  # patient payments take 100,000,000 + session id
PATIENT_PAYMENT_IDS = 100_000_000

# --- generation -----------------------------------------------------------------------------

_REFERENCE = [
    """INSERT INTO organizations (id, name, kind, created_at) VALUES (1, 'Bench', 'practice', now())""",
    """INSERT INTO practices (id, organization_id, name, timezone, legal_name, tax_id, group_npi,
        taxonomy_code, address_line1, address_line2, city, state, postal_code, phone,
        require_admin_totp, settings, created_at)
       VALUES (1, 1, 'Bench practice', 'America/New_York', 'Bench Practice LLC', '123456789',
        '1234567893', '101YM0800X', '1 Main St', '', 'Springfield', 'MA', '01101', '',
        false, '{"kpi": {"collections_goal_cents": 1000000000}}', now())""",
    """INSERT INTO providers (id, practice_id, first_name, last_name, credentials, npi, taxonomy_code,
        is_active, name_key, created_at)
       SELECT g, 1, 'Clin' || g, 'Ician' || g, 'LCSW', lpad((1000000000 + g)::text, 10, '0'),
        '1041C0700X', true, 'ician' || g || ' clin' || g, now()
       FROM generate_series(1, :providers) g""",
    """INSERT INTO payers (id, name, edi_payer_id, kind, created_at)
       SELECT g, 'Payer ' || g, (60000 + g)::text, 'commercial', now() FROM generate_series(1, :payers) g""",
    """INSERT INTO clients (id, practice_id, first_name, last_name, date_of_birth, sex, address_line1,
        address_line2, city, state, postal_code, phone, email, external_ids, name_key, created_at)
       SELECT g, 1, 'First' || g, 'Last' || g, date '1960-01-01' + (g % 15000), 'U', '', '', '', '',
        '', '', '', '{}', 'last' || g || ' first' || g, now()
       FROM generate_series(1, :clients) g""",
    """INSERT INTO guarantors (id, practice_id, client_id, relationship_to_client, first_name, last_name,
        address_line1, city, state, postal_code, phone, email, is_primary)
       SELECT g, 1, g, 'self', 'First' || g, 'Last' || g, '', '', '', '', '', '', true
       FROM generate_series(1, :clients) g""",
    """INSERT INTO coverages (id, practice_id, client_id, payer_id, member_id, group_number, priority,
        relationship_to_subscriber, subscriber_first_name, subscriber_last_name, subscriber_sex,
        copay_cents)
       SELECT g, 1, g, 1 + g % :payers, 'M' || g, '', 'primary', 'self', '', '', 'U', 0
       FROM generate_series(1, :clients) g""",
]

# One row per session of the batch: who, when, how much, and what became of it. ``x`` is a
# multiplicative hash of the id (Knuth's); the day and the outcome come from its parts.
_STAGE = """
CREATE UNLOGGED TABLE bench_s AS
WITH base AS (
  SELECT i, (i::bigint * 2654435761) % 4294967296 AS x FROM generate_series(:lo, :hi) i
), days AS (
  SELECT i, x, CAST(:start AS date) + (x % :days)::int AS service_on, ((x / :days) % 1000)::int AS o
  FROM base
), facts AS (
  SELECT i, o, service_on, (CAST(:today AS date) - service_on) AS age,
    1 + (i::bigint * 7919) % :clients AS client_id, 1 + i % :providers AS provider_id,
    CASE WHEN o % 3 = 0 THEN '90834' WHEN o % 7 = 0 THEN '90791' ELSE '90837' END AS code,
    CASE WHEN o % 3 = 0 THEN 13000 WHEN o % 7 = 0 THEN 20000 ELSE 16000 END AS fee,
    o < 30 AS self_pay, o BETWEEN 30 AND 34 AS no_show
  FROM days
), outcome AS (
  SELECT f.*, 1 + f.client_id % :payers AS payer_id,
    NOT f.self_pay AND NOT f.no_show AND f.age >= 3 AS claimed,
    f.service_on + 2 AS billed_on,
    f.service_on + 18 + f.o % 10 AS decided_on,
    f.service_on + 25 + f.o % 10 AS paid_on,
    f.service_on + 45 + f.o % 20 AS pat_paid_on,
    f.o BETWEEN 35 AND 84 AS denied,
    f.o BETWEEN 85 AND 134 AS rejected_first,
    f.o BETWEEN 135 AND 164 AS stuck
  FROM facts f
)
SELECT *,
  CASE
    WHEN NOT claimed THEN NULL
    WHEN age < 7 THEN 'submitted'
    WHEN age < 21 OR stuck OR decided_on > CAST(:today AS date) THEN 'accepted'
    WHEN denied THEN 'denied'
    WHEN paid_on > CAST(:today AS date) THEN 'adjudicated'
    ELSE 'paid'
  END AS status,
  (billed_on + time '15:00') AT TIME ZONE 'America/New_York' AS sent_at,
  fee * 60 / 100 AS ins_paid, fee * 25 / 100 AS contractual,
  fee - fee * 60 / 100 - fee * 25 / 100 AS transfer
FROM outcome
"""

_ROWS = [
    # sessions and their charges
    """INSERT INTO sessions (id, practice_id, client_id, provider_id, starts_at, service_on,
        duration_minutes, place_of_service, appointment_status, note_status, note_locked_at,
        self_pay, source, external_id, created_at)
       SELECT i, 1, client_id, provider_id,
        ((service_on + time '08:00') AT TIME ZONE 'America/New_York') + (i % 9) * interval '1 hour'
          + i * interval '1 microsecond',
        service_on, 53, '11', CASE WHEN no_show THEN 'no_show' ELSE 'show' END,
        CASE WHEN age > 1 THEN 'locked' ELSE 'draft' END,
        CASE WHEN age > 1 THEN (service_on + time '20:00') AT TIME ZONE 'America/New_York' END,
        self_pay, 'manual', '', (service_on + time '21:00') AT TIME ZONE 'America/New_York'
       FROM bench_s""",
    """INSERT INTO charges (id, practice_id, session_id, procedure_code, modifiers, units, fee_cents,
        diagnosis_codes, diagnosis_pointers, patient_only, source_snapshot, created_at)
       SELECT i, 1, i, code, '', 1, fee, '["F41.1"]', '1', false, '{}',
        (service_on + time '21:00') AT TIME ZONE 'America/New_York'
       FROM bench_s WHERE NOT no_show""",
    # claims, their lines, submissions, events, denials
    """INSERT INTO claims (id, practice_id, number, client_id, provider_id, payer_id, coverage_id,
        frequency, payer_claim_control_number, status, status_changed_at, service_from_on,
        service_to_on, billed_cents, timely_filing_on, next_followup_on, place_of_service,
        diagnosis_codes, prior_authorization_number, billing_basis, source, created_at)
       SELECT i, 1, 'B' || i, client_id, provider_id, payer_id, client_id, '1', '', status,
        CASE status WHEN 'submitted' THEN sent_at WHEN 'paid' THEN paid_on + time '12:00'
          WHEN 'adjudicated' THEN decided_on + time '12:00' WHEN 'denied' THEN decided_on + time '12:00'
          ELSE sent_at + interval '2 days' END,
        service_on, service_on, fee, service_on + 90,
        CASE WHEN status IN ('submitted', 'accepted', 'denied') THEN billed_on + 30 END,
        '11', '["F41.1"]', '', 'direct', 'session', sent_at - interval '1 hour'
       FROM bench_s WHERE claimed""",
    """INSERT INTO claim_lines (id, practice_id, claim_id, charge_id, line_number, procedure_code,
        modifiers, units, charge_cents, service_on, diagnosis_pointers)
       SELECT i, 1, i, i, 1, code, '', 1, fee, service_on, '1' FROM bench_s WHERE claimed""",
    """INSERT INTO submissions (practice_id, claim_id, channel, frequency, submitted_at, reference,
        clearinghouse_reference, payer_claim_control_number)
       SELECT 1, i, 'clearinghouse', '1', sent_at, '', '', '' FROM bench_s WHERE claimed
       UNION ALL
       SELECT 1, i, 'clearinghouse', '1', sent_at + interval '5 days', '', '', '' FROM bench_s
       WHERE claimed AND rejected_first AND age >= 7""",
    """INSERT INTO claim_events (practice_id, claim_id, from_status, to_status, source, detail, created_at)
       SELECT 1, i, s.from_status, s.to_status, s.source, '', s.at
       FROM bench_s b CROSS JOIN LATERAL (VALUES
         (1, 'draft', 'ready', 'system', b.sent_at - interval '1 hour', true),
         (2, 'ready', 'submitted', 'user', b.sent_at, true),
         (3, 'submitted', 'rejected', '999', b.sent_at + interval '1 day', b.rejected_first AND b.age >= 7),
         (4, 'rejected', 'submitted', 'user', b.sent_at + interval '5 days', b.rejected_first AND b.age >= 7),
         (5, 'submitted', 'accepted', '277CA', b.sent_at + interval '6 days', b.status <> 'submitted'),
         (6, 'accepted', CASE WHEN b.denied THEN 'denied' ELSE 'adjudicated' END, '277',
          (b.decided_on + time '12:00') AT TIME ZONE 'America/New_York',
          b.status IN ('denied', 'adjudicated', 'paid')),
         (7, 'adjudicated', 'paid', '835', (b.paid_on + time '12:00') AT TIME ZONE 'America/New_York',
          b.status = 'paid')
       ) AS s(n, from_status, to_status, source, at, happened)
       WHERE b.claimed AND s.happened
       ORDER BY s.at""",
    """INSERT INTO denials (practice_id, claim_id, claim_line_id, group_code, carc, rarc, amount_cents,
        category, default_action, resolution, created_at)
       SELECT 1, i, i, 'CO', CASE WHEN o % 2 = 0 THEN '197' ELSE '16' END, '', fee,
        CASE WHEN o % 2 = 0 THEN 'authorization' ELSE 'missing_information' END, '', 'open',
        (decided_on + time '12:00') AT TIME ZONE 'America/New_York'
       FROM bench_s WHERE status = 'denied'""",
    # payments: one insurance EFT per payer and day, one card payment per patient payment
    """CREATE UNLOGGED TABLE bench_eft AS
       SELECT :eft_base + row_number() OVER (ORDER BY paid_on, payer_id) AS id, payer_id, paid_on,
        sum(ins_paid) AS amount
       FROM bench_s WHERE status = 'paid' GROUP BY payer_id, paid_on""",
    """INSERT INTO payments (id, practice_id, kind, method, amount_cents, received_on, reference,
        payer_id, created_at)
       SELECT id, 1, 'insurance', 'eft', amount, paid_on, 'EFT' || id, payer_id,
        (paid_on + time '12:00') AT TIME ZONE 'America/New_York'
       FROM bench_eft""",
    """INSERT INTO payments (id, practice_id, kind, method, amount_cents, received_on, reference,
        client_id, guarantor_id, created_at)
       SELECT :pat_base + i, 1, 'patient', 'card', pat_amount, pat_paid_on, '', client_id, client_id,
        (pat_paid_on + time '12:00') AT TIME ZONE 'America/New_York'
       FROM bench_pat""",
]

# What the ledger records per session: (transaction number, kind, date, amount, payment id) rows.
_PATIENT_PAID = """
CREATE UNLOGGED TABLE bench_pat AS
SELECT i, client_id, CASE WHEN self_pay THEN fee ELSE transfer END AS pat_amount,
  CASE WHEN self_pay THEN service_on + 10 + o % 20 ELSE pat_paid_on END AS pat_paid_on
FROM bench_s
WHERE NOT no_show AND o % 10 < 8 AND (
  (self_pay AND service_on + 10 + o % 20 <= CAST(:today AS date))
  OR (status = 'paid' AND pat_paid_on <= CAST(:today AS date)))
"""

_EVENTS = """
CREATE UNLOGGED TABLE bench_t AS
SELECT b.i * 8 + 0 AS id, b.i, 'charge' AS kind, b.billed_on AS on_day, b.fee AS amount,
  NULL::bigint AS payment_id
FROM bench_s b WHERE b.claimed OR (b.self_pay AND b.age >= 2)
UNION ALL
SELECT b.i * 8 + 1, b.i, 'insurance_payment', b.paid_on, b.ins_paid, e.id
FROM bench_s b JOIN bench_eft e ON e.payer_id = b.payer_id AND e.paid_on = b.paid_on
WHERE b.status = 'paid'
UNION ALL
SELECT b.i * 8 + 2, b.i, 'contractual_adjustment', b.paid_on, b.contractual, NULL
FROM bench_s b WHERE b.status = 'paid'
UNION ALL
SELECT b.i * 8 + 3, b.i, 'transfer_to_patient', b.paid_on, b.transfer, NULL
FROM bench_s b WHERE b.status = 'paid'
UNION ALL
SELECT p.i * 8 + 4, p.i, 'patient_payment', p.pat_paid_on, p.pat_amount, :pat_base + p.i
FROM bench_pat p
"""

_LEDGER = [
    """INSERT INTO ledger_transactions (id, practice_id, kind, accounting_on, memo, fingerprint,
        payment_id, created_at)
       SELECT id, 1, kind, on_day, '', md5(id::text) || md5(kind), payment_id,
        (on_day + time '12:00') AT TIME ZONE 'America/New_York'
       FROM bench_t""",
    # the two legs of each transaction (debit positive), as domain.ledger_events writes them
    """INSERT INTO postings (practice_id, transaction_id, account, amount_cents, charge_id, claim_id,
        client_id, coverage_id, guarantor_id, payment_id, payer_id, accounting_on, created_at)
       SELECT 1, t.id, leg.account, leg.amount, b.i,
        CASE WHEN b.claimed THEN b.i END, b.client_id,
        CASE WHEN leg.account = 'ar:insurance' THEN b.client_id END,
        CASE WHEN leg.account = 'ar:patient' THEN b.client_id END,
        CASE WHEN leg.account IN ('cash', 'ar:insurance', 'ar:patient') THEN t.payment_id END,
        CASE WHEN leg.account = 'ar:insurance' THEN b.payer_id END,
        t.on_day, (t.on_day + time '12:00') AT TIME ZONE 'America/New_York'
       FROM bench_t t JOIN bench_s b ON b.i = t.i
       CROSS JOIN LATERAL (VALUES
         (CASE t.kind WHEN 'charge' THEN CASE WHEN b.self_pay THEN 'ar:patient' ELSE 'ar:insurance' END
            WHEN 'contractual_adjustment' THEN 'adjustment:contractual'
            WHEN 'transfer_to_patient' THEN 'ar:patient' ELSE 'cash' END, t.amount),
         (CASE t.kind WHEN 'charge' THEN 'revenue' WHEN 'patient_payment' THEN 'ar:patient'
            ELSE 'ar:insurance' END, -t.amount)
       ) AS leg(account, amount)
       ORDER BY t.on_day""",
]

# Balances of every scope but the charge's, from all the postings (recomputed after each batch).
_BALANCES = """
INSERT INTO ledger_balances (practice_id, scope, scope_id, account, balance_cents, updated_at)
SELECT practice_id, 'account', 0, account, sum(amount_cents), now() FROM postings
GROUP BY practice_id, account
UNION ALL
SELECT practice_id, 'claim', claim_id, account, sum(amount_cents), now() FROM postings
WHERE claim_id IS NOT NULL GROUP BY practice_id, claim_id, account
UNION ALL
SELECT practice_id, 'client', client_id, account, sum(amount_cents), now() FROM postings
WHERE client_id IS NOT NULL GROUP BY practice_id, client_id, account
UNION ALL
SELECT practice_id, 'payer', payer_id, account, sum(amount_cents), now() FROM postings
WHERE payer_id IS NOT NULL GROUP BY practice_id, payer_id, account
"""

_CHECKS = {
    "unbalanced transactions": """SELECT count(*) FROM (SELECT transaction_id FROM postings
        GROUP BY transaction_id HAVING sum(amount_cents) <> 0) x""",
    "claim balances off": """SELECT count(*) FROM ledger_balances lb FULL JOIN (
        SELECT claim_id, account, sum(amount_cents) AS s FROM postings WHERE claim_id IS NOT NULL
        GROUP BY claim_id, account) p ON lb.scope = 'claim' AND lb.scope_id = p.claim_id
        AND lb.account = p.account
        WHERE (lb.id IS NULL OR lb.scope = 'claim') AND lb.balance_cents IS DISTINCT FROM p.s""",
    "account balances off": """SELECT count(*) FROM ledger_balances lb FULL JOIN (
        SELECT account, sum(amount_cents) AS s FROM postings GROUP BY account) p
        ON lb.scope = 'account' AND lb.account = p.account
        WHERE (lb.id IS NULL OR lb.scope = 'account') AND lb.balance_cents IS DISTINCT FROM p.s""",
}

_SEQUENCED = [
    "organizations",
    "practices",
    "providers",
    "payers",
    "clients",
    "guarantors",
    "coverages",
    "sessions",
    "charges",
    "claims",
    "claim_lines",
    "submissions",
    "claim_events",
    "denials",
    "payments",
    "ledger_transactions",
    "postings",
    "ledger_balances",
    "users",
    "memberships",
]


def _run(conn: Connection, sql: str, params: dict[str, Any]) -> None:
    """Run ``sql`` with whole numbers written in (a bound integer is typed smallint, which
    PostgreSQL's generate_series finds ambiguous) and dates bound."""
    for name in sorted(params, key=len, reverse=True):
        if isinstance(params[name], int):
            sql = sql.replace(f":{name}", str(params[name]))
    conn.execute(text(sql), {k: v for k, v in params.items() if not isinstance(v, int) and f":{k}" in sql})


def _reference(conn: Connection) -> None:
    for statement in _REFERENCE:
        _run(conn, statement, {"providers": PROVIDERS, "payers": PAYERS, "clients": CLIENTS})


def _generate(conn: Connection, lo: int, hi: int, today: date) -> dict[str, float]:
    """Sessions ``lo``..``hi`` and everything they lead to; then every balance again."""
    steps: dict[str, float] = {}
    params = {
        "lo": lo,
        "hi": hi,
        "today": today,
        "start": date.fromordinal(today.toordinal() - DAYS + 1),
        "days": DAYS,
        "clients": CLIENTS,
        "providers": PROVIDERS,
        "payers": PAYERS,
        "eft_base": INSURANCE_PAYMENT_IDS + _max_id(conn, "payments", INSURANCE_PAYMENT_IDS),
        "pat_base": PATIENT_PAYMENT_IDS,
    }

    def step(name: str, sql: str) -> None:
        started = time.perf_counter()
        _run(conn, sql, params)
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - started

    for table in ("bench_s", "bench_eft", "bench_pat", "bench_t"):
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    step("stage", _STAGE)
    step("stage", "CREATE INDEX ON bench_s (i)")
    step("stage", "ANALYZE bench_s")
    step("stage", _PATIENT_PAID)
    for n, sql in enumerate(_ROWS):
        if "bench_eft AS" in sql:
            step("payments", sql)
        else:
            step(
                [
                    "sessions",
                    "charges",
                    "claims",
                    "claim_lines",
                    "submissions",
                    "claim_events",
                    "denials",
                    "payments",
                    "payments",
                    "payments",
                ][n],
                sql,
            )
    step("ledger_transactions", _EVENTS)
    step("ledger_transactions", _LEDGER[0])
    step("postings", _LEDGER[1])
    step("ledger_balances", "TRUNCATE ledger_balances")
    step("ledger_balances", _BALANCES)
    for table in _SEQUENCED:
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )
    for table in ("bench_s", "bench_eft", "bench_pat", "bench_t"):
        conn.execute(text(f"DROP TABLE {table}"))
    return {name: round(seconds, 1) for name, seconds in steps.items()}


def _max_id(conn: Connection, table: str, below: int) -> int:
    """The largest insurance payment number used so far (ids from ``below`` up)."""
    found = conn.scalar(text(f"SELECT max(id) FROM {table} WHERE id < :top"), {"top": PATIENT_PAYMENT_IDS})
    return max(int(found or 0) - below, 0)


def _admin(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO users (email, full_name, password_hash, is_active, token_version, totp_enabled, "
            "totp_last_step, created_at) VALUES (:email, 'Bench admin', :hash, true, 1, false, 0, now())"
        ),
        {"email": ADMIN_EMAIL, "hash": hash_password(PASSWORD)},
    )
    for role in (Role.ADMIN.value, Role.BILLING.value):
        conn.execute(
            text(
                "INSERT INTO memberships (user_id, practice_id, role, created_at) "
                "SELECT id, 1, :role, now() FROM users WHERE email = :email"
            ),
            {"role": role, "email": ADMIN_EMAIL},
        )


def _counts(conn: Connection) -> dict[str, int]:
    tables = [
        "sessions",
        "charges",
        "claims",
        "claim_lines",
        "submissions",
        "claim_events",
        "denials",
        "payments",
        "ledger_transactions",
        "postings",
        "ledger_balances",
    ]
    return {table: int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0) for table in tables}


def _check(conn: Connection) -> dict[str, int]:
    problems = {name: int(conn.scalar(text(sql)) or 0) for name, sql in _CHECKS.items()}
    if any(problems.values()):
        raise SystemExit(f"the generated ledger is inconsistent: {problems}")
    return problems


# --- measuring ------------------------------------------------------------------------------


TIMED_OUT = "TIMED OUT: "


class _TimedOutError(Exception):
    """A page answered 500 because a statement ran past the timeout."""


class _Statements:
    """The SQL statements run while it is on, with their times (to name the slow one)."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.found: list[tuple[float, str]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "handle_error", self._failed)

    def _before(self, conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.on:
            self.found.append((time.perf_counter() - conn.info["bench_started"], statement))

    def _failed(self, context: Any) -> None:
        if self.on and context.connection is not None:
            started = context.connection.info.get("bench_started", time.perf_counter())
            if "statement timeout" in str(context.original_exception):
                self.found.append((time.perf_counter() - started, TIMED_OUT + str(context.statement)))

    def timed_out(self) -> bool:
        return any(sql.startswith(TIMED_OUT) for _, sql in self.found)

    def slowest(self, n: int = 3) -> list[dict[str, Any]]:
        ranked = sorted(self.found, key=lambda found: -found[0])[:n]
        return [{"seconds": round(t, 3), "sql": " ".join(sql.split())[:400]} for t, sql in ranked]


def _timed(run: Callable[[], Any], statements: _Statements) -> dict[str, Any]:
    """The cold run (with its slowest statements), then the median of the warm runs; a run
    cancelled by the statement timeout ends the measure."""
    times = []
    for n in range(1 + WARM_RUNS):
        statements.on, statements.found = n == 0, []
        started = time.perf_counter()
        try:
            run()
        except (DBAPIError, _TimedOutError) as exc:
            if "statement timeout" not in str(exc) and not isinstance(exc, _TimedOutError):
                raise
            return {
                "timed_out_after_seconds": round(time.perf_counter() - started, 1),
                "median_seconds": None,
                "cold_slowest_statements": statements.slowest(),
            }
        finally:
            statements.on = False
        times.append(time.perf_counter() - started)
        if n == 0:
            slowest = statements.slowest()
    return {
        "cold_seconds": round(times[0], 3),
        "median_seconds": round(statistics.median(times[1:]), 3),
        "warm_seconds": [round(t, 3) for t in times[1:]],
        "cold_slowest_statements": slowest,
    }


def _avg_days_to_payment_rewritten(self: Any) -> tuple[float | None, str]:
    """Diagnostic only (``--what-if``): ``services.kpis`` average days to payment with each
    claim's first submission read by a correlated ``min(submitted_at)`` (the index on
    ``submissions.claim_id``) instead of a grouped subquery joined to the paid claims, which
    the planner, expecting one paid claim, runs once per paid claim. Same figures."""
    first, last = kpis._window(self.today, kpis.RECENT_DAYS)
    paid = kpis._first_paid(self.practice_id, first).subquery()
    sent_at = (
        select(func.min(m.Submission.submitted_at))
        .where(m.Submission.claim_id == m.Claim.id)
        .correlate(m.Claim)
        .scalar_subquery()
    )
    local_sent = cast(func.timezone(self.zone.key, sent_at), Date)
    n, from_service, from_sent = self.db.execute(
        select(
            func.count(),
            func.avg(paid.c.paid_on - m.Claim.service_from_on),
            func.avg(paid.c.paid_on - local_sent),
        )
        .select_from(m.Claim)
        .join(paid, paid.c.claim_id == m.Claim.id)
        .where(paid.c.paid_on >= first, paid.c.paid_on <= last)
    ).one()
    if not n:
        return None, "no claims paid"
    extra = f"; {float(from_sent):.1f} from first submission" if from_sent is not None else ""
    return float(from_service), f"{n:,} claims{extra}"


def _held_unsent_sessions_rewritten(db: Any, practice_id: int) -> list[Any]:
    """Diagnostic only (``--what-if``): ``services.timely_filing.held_unsent_sessions`` with
    "not on a claim that went out" as ``NOT EXISTS`` (an anti-join) instead of ``NOT IN``,
    which PostgreSQL runs as a subplan rescanned per session once the subquery outgrows
    ``work_mem``. Same sessions."""
    tf = timely_filing
    sent = (
        select(m.Charge.id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
        .where(
            m.Charge.session_id == m.ServiceSession.id,
            m.Claim.practice_id == practice_id,
            m.Claim.status.not_in([str(s) for s in (*tf.UNSENT_CLAIM_STATUSES, tf.ClaimStatus.VOID)]),
        )
    )
    query = select(m.ServiceSession).where(
        m.ServiceSession.practice_id == practice_id,
        m.ServiceSession.appointment_status.in_(tf.HELD_STATUSES),
        ~sent.exists(),
        (m.ServiceSession.self_pay.is_(False)) | (m.ServiceSession.note_status != "locked"),
    )
    sessions = list(db.scalars(query.order_by(m.ServiceSession.id)))
    facts = tf.session_facts(db, sessions)
    payers = tf.payers_on(db, practice_id, [(s.id, s.client_id, s.service_on) for s in sessions])
    deadlines = tf.session_deadlines(db, practice_id, [s.id for s in sessions])
    return [tf.HeldSession(s, facts[s.id], payers.get(s.id), deadlines.get(s.id)) for s in sessions]


def _measure(url: str, today: date, *, what_if: bool = False) -> dict[str, Any]:
    engine = make_engine(url, connect_args={"options": f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}"})
    statements = _Statements(engine)
    factory = make_session_factory(engine)
    with factory() as db:
        user_id = int(db.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": ADMIN_EMAIL}))
    actor = Actor(user_id, {PRACTICE: frozenset({Role.ADMIN, Role.BILLING})})

    def service(call: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with factory() as db:
                result = call(db)
                db.rollback()
            return result

        return run

    figures: dict[str, Any] = {}
    figures["dashboard_service"] = _timed(
        service(lambda db: practice_dashboard(db, actor=actor, practice_id=PRACTICE, today=today)),
        statements,
    )
    figures["kpis_service"] = _timed(
        service(lambda db: compute_kpis(db, actor=actor, practice_id=PRACTICE, today=today)), statements
    )
    figures["aging_service"] = _timed(
        service(
            lambda db: aging_report(
                db,
                actor=actor,
                practice_id=PRACTICE,
                today=today,
                filters=aging_filters(basis="service", group_by="payer"),
                limit=PAGE_CLAIMS,
            )
        ),
        statements,
    )
    if what_if:
        original, held = kpis._Figures.avg_days_to_payment, kpis.held_unsent_sessions
        kpis._Figures.avg_days_to_payment = _avg_days_to_payment_rewritten  # type: ignore[method-assign]
        kpis.held_unsent_sessions = _held_unsent_sessions_rewritten
        try:
            figures["what_if_dashboard_service"] = _timed(
                service(lambda db: practice_dashboard(db, actor=actor, practice_id=PRACTICE, today=today)),
                statements,
            )
        finally:
            kpis._Figures.avg_days_to_payment = original  # type: ignore[method-assign]
            kpis.held_unsent_sessions = held
    settings = Settings(
        environment="test",
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key="bench-secret-key-that-is-long-enough-for-hs256",
    )
    app = create_app(settings, session_factory=factory)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login", data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token, "next": "/"}
        )
        if answer.status_code != 303:
            raise SystemExit(f"could not sign in: {answer.status_code}")
        for name, path in (("dashboard_page", "/dashboard"), ("aging_page", "/reports/aging")):

            def get(path: str = path) -> None:
                response = client.get(path)
                if response.status_code == 500 and statements.timed_out():
                    raise _TimedOutError(path)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}: {response.text[:500]}")

            figures[name] = _timed(get, statements)
    engine.dispose()
    return figures


def _describe(engine: Engine, today: date) -> dict[str, Any]:
    """A few figures of the generated practice, to show it is realistic."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM claims GROUP BY status ORDER BY 2 DESC"))
        statuses = {str(status): int(n) for status, n in rows}
        ar = conn.scalar(
            text(
                "SELECT sum(balance_cents) FROM ledger_balances WHERE scope = 'account' "
                "AND account IN ('ar:insurance', 'ar:patient')"
            )
        )
    return {"claims_by_status": statuses, "ar_cents": int(ar or 0), "today": today.isoformat()}


def run_scale(engine: Engine, lo: int, hi: int, today: date, *, what_if: bool) -> dict[str, Any]:
    started = time.perf_counter()
    cpu = time.process_time()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        # Foreign keys hold by construction (every id is derived from the session's); their
        # per-row checks would cost more than the inserts (postings have eight).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        steps = _generate(conn, lo, hi, today)
    generate_s = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        analyze_started = time.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        analyze_s = time.perf_counter() - analyze_started
        check_started = time.perf_counter()
        checks = _check(conn)
        check_s = time.perf_counter() - check_started
        counts = _counts(conn)
    print(f"  generated sessions {lo}..{hi} in {generate_s:.1f} s {steps}; vacuum analyze {analyze_s:.1f} s")
    figures = _measure(engine.url.render_as_string(hide_password=False), today, what_if=what_if)
    for name, value in figures.items():
        if value["median_seconds"] is None:
            slowest = value["cold_slowest_statements"][0]
            print(f"  {name:18} timed out after {value['timed_out_after_seconds']} s: {slowest}")
        else:
            print(f"  {name:18} cold {value['cold_seconds']:.3f} s  median {value['median_seconds']:.3f} s")
    return {
        "sessions": hi,
        "generate_seconds": round(generate_s, 1),
        "generate_steps_seconds": steps,
        "generate_client_cpu_seconds": round(time.process_time() - cpu, 1),
        "vacuum_analyze_seconds": round(analyze_s, 1),
        "ledger_check_seconds": round(check_s, 1),
        "ledger_check": checks,
        "rows": counts,
        "practice": _describe(engine, today),
        "figures": figures,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _create_database() -> tuple[str, str]:
    name = f"revcycle_bench_reports_{uuid.uuid4().hex[:8]}"
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


def _misses(scales: list[dict[str, Any]]) -> list[str]:
    last = scales[-1]
    misses = [
        f"{name} {_shown(value)} at {last['sessions']:,} sessions (target < {TARGET_SECONDS} s)"
        for name, value in last["figures"].items()
        if not name.startswith("what_if")
        and (value["median_seconds"] is None or value["median_seconds"] >= TARGET_SECONDS)
    ]
    if len(scales) > 1:
        first = scales[0]
        for name, value in last["figures"].items():
            before = first["figures"][name]["median_seconds"]
            if value["median_seconds"] is None or before is None:
                continue
            ratio = value["median_seconds"] / max(before, 1e-9)
            last.setdefault("growth", {})[name] = round(ratio, 2)
            if ratio > TARGET_GROWTH and not name.startswith("what_if"):
                misses.append(
                    f"{name} grew {ratio:.2f}x from {first['sessions']:,} (target <= {TARGET_GROWTH}x)"
                )
    return misses


def _shown(value: dict[str, Any]) -> str:
    if value["median_seconds"] is None:
        return f"timed out (statement over {STATEMENT_TIMEOUT_S} s)"
    return f"{value['median_seconds']:.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--first", type=int, default=100_000, help="measure here first, then top up")
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="also time the dashboard with the average days to payment query rewritten (diagnostic)",
    )
    parser.add_argument(
        "--measure-only",
        metavar="DATABASE",
        help="measure a database kept by an earlier --keep run (results printed, not saved)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    args = parser.parse_args()
    today = datetime.now(UTC).date()
    if args.measure_only:
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{args.measure_only}"
        for key, value in _measure(url, today, what_if=args.what_if).items():
            print(key, {k: v for k, v in value.items() if k != "cold_slowest_statements"})
            for statement in value["cold_slowest_statements"]:
                print("   ", statement["seconds"], statement["sql"][:200])
        return 0
    name, url = _create_database()
    print(f"database {name}")
    engine = make_engine(url)
    results: dict[str, Any] = {
        "benchmark": "reports",
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()} Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
            f"{os.cpu_count()} CPUs"
        ),
        "targets": {"median_seconds_below": TARGET_SECONDS, "growth_at_most": TARGET_GROWTH},
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        upgrade(engine)
        with engine.begin() as conn:
            server = conn.scalar(text("SHOW server_version"))
            _reference(conn)
            _admin(conn)
        results["postgresql"] = str(server)
        scales = []
        lo = 1
        for size in sorted({min(args.first, args.sessions), args.sessions}):
            print(f"{size:,} sessions")
            scales.append(run_scale(engine, lo, size, today, what_if=args.what_if))
            lo = size + 1
        results["scales"] = scales
        misses = _misses(scales)
        results["missed"] = misses
    finally:
        engine.dispose()
        if not args.keep:
            _drop(name)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}", file=sys.stderr)
    for miss in misses:
        print(f"MISSED: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
