"""Background jobs: Huey tasks, each a thin wrapper that opens a unit of work and calls a service.

Huey stores its queue in a SQLite file under `var/` by default, or in Redis when
REVCYCLE_HUEY_REDIS_URL is set (many workers on many machines). `revcycle worker` runs the
consumer; `revcycle run` starts one next to the web app.

Periodic jobs:

* `ledger_check` (nightly at 07:30 UTC, the small hours on the US east coast): recompute
  every practice's balances from the postings and open a critical alert on any discrepancy;
* `expire_web_sessions` (every 10 minutes): end sessions past their idle or absolute limit,
  so the sessions list and the audit of who is signed in stay true between requests.
* `alert_rules` (daily at 11:00 UTC): run every practice's alert rules (services.alerts):
  raise, update, resolve and reopen alerts.
* `kpi_alerts` (daily at 11:10 UTC): check every practice's KPIs against its thresholds
  (services.kpis): an alert per figure past its threshold, resolved once it is back.
* `monthly_reports` (the 1st of each month, 12:00 UTC): last month's report PDF to each
  practice's administrators through the mail adapter (services.monthly_report), once.
"""

from __future__ import annotations

from datetime import date, datetime

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from sqlalchemy.orm import Session, sessionmaker

from revcycle.config import Settings, get_settings
from revcycle.db.engine import engine_from_settings, make_session_factory, unit_of_work
from revcycle.db.types import utcnow
from revcycle.services import housekeeping
from revcycle.services.actor import system_actor

HUEY_NAME = "revcycle"


def build_huey(settings: Settings) -> Huey:
    """SQLite storage by default, Redis when a URL is configured; inline when `immediate`."""
    if settings.huey_redis_url:
        return RedisHuey(HUEY_NAME, url=settings.huey_redis_url, immediate=settings.huey_immediate)
    path = settings.huey_sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(HUEY_NAME, filename=str(path), immediate=settings.huey_immediate)


# The one exception to "nothing at import time": Huey's consumer (`revcycle worker`) finds the
# tasks through this module-level instance, and the @huey decorators below need it to exist
# when the module is imported. It only opens a connection to its queue when first used; the
# database engine is still built lazily, by `session_factory()`.
huey = build_huey(get_settings())

_session_factory: sessionmaker[Session] | None = None


def session_factory() -> sessionmaker[Session]:
    """The worker's session factory, built from the settings on first use."""
    global _session_factory  # noqa: PLW0603 -- one per worker process, built lazily
    if _session_factory is None:
        _session_factory = make_session_factory(engine_from_settings(get_settings()))
    return _session_factory


def use_session_factory(factory: sessionmaker[Session] | None) -> None:
    """Point the tasks at another database (an embedding process, or a test); None resets."""
    global _session_factory  # noqa: PLW0603
    _session_factory = factory


def run_ledger_check(factory: sessionmaker[Session]) -> int:
    """Check every practice's books in one unit of work; return how many disagree."""
    with unit_of_work(factory) as session:
        outcomes = housekeeping.check_books(session, actor=system_actor("ledger_check"))
    return sum(1 for outcome in outcomes if outcome.problems)


def run_expire_web_sessions(factory: sessionmaker[Session], settings: Settings) -> int:
    """End stale web sessions in one unit of work; return how many were ended."""
    with unit_of_work(factory) as session:
        return housekeeping.end_stale_web_sessions(session, settings)


@huey.periodic_task(crontab(minute="30", hour="7"), name="ledger_check")  # type: ignore[untyped-decorator]
def ledger_check() -> int:
    return run_ledger_check(session_factory())


@huey.periodic_task(crontab(minute="*/10"), name="expire_web_sessions")  # type: ignore[untyped-decorator]
def expire_web_sessions() -> int:
    return run_expire_web_sessions(session_factory(), get_settings())


def run_alert_rules(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Run every practice's alert rules in one unit of work (services.alerts); return how many
    alerts were raised or reopened. ``now`` is injectable; the job passes the current time."""
    from revcycle.services import alerts

    with unit_of_work(factory) as session:
        runs = alerts.run_alerts_everywhere(session, now=now or utcnow(), actor=system_actor("alerts"))
    return sum(run.raised + run.reopened for run in runs)


# Daily at 11:00 UTC (6 or 7 in the morning on the US east coast): before the practice opens.
@huey.periodic_task(crontab(minute="0", hour="11"), name="alert_rules")  # type: ignore[untyped-decorator]
def alert_rules() -> int:
    return run_alert_rules(session_factory())


def run_followup_rebuild(factory: sessionmaker[Session], today: date | None = None) -> int:
    """Assign open claims by the saved assignment rules, then rebuild every practice's
    follow-up work items (services.followup), in one unit of work; return how many items
    changed. ``today`` is injectable; the job passes today's date."""
    from revcycle.services import assignment, followup

    day = today or utcnow().date()
    with unit_of_work(factory) as session:
        assignment.apply_saved_rules_everywhere(session, today=day, actor=system_actor("assignment"))
        runs = followup.rebuild_everywhere(session, today=day, actor=system_actor("followup"))
    return sum(run.changed for run in runs)


# Daily at 10:30 UTC, before the alert rules and before the practice opens: each person's
# queue is ready when they sit down.
@huey.periodic_task(crontab(minute="30", hour="10"), name="followup_rebuild")  # type: ignore[untyped-decorator]
def followup_rebuild() -> int:
    return run_followup_rebuild(session_factory())


def run_appeal_deadlines(factory: sessionmaker[Session], today: date | None = None) -> int:
    """Keep every practice's appeal deadline work items (services.appeals) in one unit of
    work; return how many changed. ``today`` is injectable; the job passes today's date."""
    from revcycle.services import appeals

    with unit_of_work(factory) as session:
        runs = appeals.raise_deadline_alerts_everywhere(
            session, today=today or utcnow().date(), actor=system_actor("appeals")
        )
    return sum(run.changed for run in runs)


# Daily at 10:40 UTC, after the follow-up rebuild: denials to appeal and drafts near their
# deadline are in the queue before the practice opens.
@huey.periodic_task(crontab(minute="40", hour="10"), name="appeal_deadlines")  # type: ignore[untyped-decorator]
def appeal_deadlines() -> int:
    return run_appeal_deadlines(session_factory())


def run_monthly_reports(
    factory: sessionmaker[Session], settings: Settings, now: datetime | None = None
) -> int:
    """Send every practice last month's report (services.monthly_report) through the mailer
    the settings choose, once per practice and month; return how many were sent. ``now`` is
    injectable; the job passes the current time."""
    from revcycle.adapters.mail import mailer_from_settings
    from revcycle.services import monthly_report

    mailer = mailer_from_settings(settings)
    with unit_of_work(factory) as session:
        outcomes = monthly_report.send_monthly_reports_everywhere(
            session, actor=system_actor("monthly_report"), now=now or utcnow(), mailer=mailer
        )
    return sum(1 for outcome in outcomes if outcome.sent)


# On the 1st of each month at 12:00 UTC (the morning on the US coasts, so "last month" is the
# practice's last month too): the director's monthly report.
@huey.periodic_task(crontab(minute="0", hour="12", day="1"), name="monthly_reports")  # type: ignore[untyped-decorator]
def monthly_reports() -> int:
    return run_monthly_reports(session_factory(), get_settings())


def run_kpi_alerts(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """Check every practice's KPIs against their thresholds in one unit of work (services.kpis);
    return how many alerts were raised or reopened. ``now`` is injectable; each practice's
    figures are taken as of its own local date."""
    from revcycle.services import kpis

    with unit_of_work(factory) as session:
        actor = system_actor("kpi_alerts")
        runs = kpis.raise_kpi_alerts_everywhere(session, now=now or utcnow(), actor=actor)
    return sum(run.raised + run.reopened for run in runs)


# Daily at 11:10 UTC, after the alert rules: the dashboard's red tiles are in the alerts before
# the practice opens.
@huey.periodic_task(crontab(minute="10", hour="11"), name="kpi_alerts")  # type: ignore[untyped-decorator]
def kpi_alerts() -> int:
    return run_kpi_alerts(session_factory())
