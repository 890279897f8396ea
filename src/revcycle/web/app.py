"""The FastAPI application, built by a factory: nothing is created at import time."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revcycle import __version__
from revcycle.config import Settings, get_settings
from revcycle.db.engine import engine_from_settings, make_session_factory
from revcycle.web.errors import install_error_handlers
from revcycle.web.security import install_security_headers
from revcycle.web.templating import make_templates

WEB_DIR = Path(__file__).resolve().parent


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    if session_factory is None:
        engine = engine or engine_from_settings(settings)
        session_factory = make_session_factory(engine)
    app = FastAPI(
        title="Revcycle",
        version=__version__,
        description="Revenue cycle for outpatient practices: sessions to claims to payments.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.templates = make_templates(settings)
    install_error_handlers(app)
    install_security_headers(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from revcycle.web.api import alerts as api_alerts
    from revcycle.web.api import appeals as api_appeals
    from revcycle.web.api import assignment as api_assignment
    from revcycle.web.api import auth as api_auth
    from revcycle.web.api import claims as api_claims
    from revcycle.web.api import codesets as api_codesets
    from revcycle.web.api import coverages as api_coverages
    from revcycle.web.api import dashboard as api_dashboard
    from revcycle.web.api import deposits as api_deposits
    from revcycle.web.api import eligibility as api_eligibility
    from revcycle.web.api import fees as api_fees
    from revcycle.web.api import forecast as api_forecast
    from revcycle.web.api import imports as api_imports
    from revcycle.web.api import paper_claims as api_paper_claims
    from revcycle.web.api import patient_payments as api_patient_payments
    from revcycle.web.api import payer_strategies as api_payer_strategies
    from revcycle.web.api import payment_entry as api_payment_entry
    from revcycle.web.api import remittances as api_remittances
    from revcycle.web.api import reports as api_reports
    from revcycle.web.api import resources as api_resources
    from revcycle.web.api import saved_filters as api_saved_filters
    from revcycle.web.api import underpayments as api_underpayments
    from revcycle.web.api import x12 as api_x12
    from revcycle.web.pages import alerts as alert_pages
    from revcycle.web.pages import analytics as analytics_pages
    from revcycle.web.pages import appeals as appeal_pages
    from revcycle.web.pages import assignment as assignment_pages
    from revcycle.web.pages import auth as auth_pages
    from revcycle.web.pages import clients as client_pages
    from revcycle.web.pages import codesets as codeset_pages
    from revcycle.web.pages import dashboard as dashboard_pages
    from revcycle.web.pages import deposits as deposit_pages
    from revcycle.web.pages import fees as fee_pages
    from revcycle.web.pages import followup_rules as followup_rule_pages
    from revcycle.web.pages import forecast as forecast_pages
    from revcycle.web.pages import front_desk as front_desk_pages
    from revcycle.web.pages import imports as import_pages
    from revcycle.web.pages import insurance as insurance_pages
    from revcycle.web.pages import main as main_pages
    from revcycle.web.pages import payer_strategies as payer_strategy_pages
    from revcycle.web.pages import payment_entry as payment_entry_pages
    from revcycle.web.pages import remittances as remittance_pages
    from revcycle.web.pages import reports as report_pages
    from revcycle.web.pages import underpayments as underpayment_pages
    from revcycle.web.pages import work_queue as work_queue_pages
    from revcycle.web.pages import x12 as x12_pages

    app.include_router(api_auth.router)
    app.include_router(api_claims.router)  # before resources: /api/claims/ready, not {claim_id}
    app.include_router(api_resources.router)
    app.include_router(api_imports.router)
    app.include_router(api_alerts.router)
    app.include_router(api_coverages.router)
    app.include_router(api_dashboard.router)
    app.include_router(api_eligibility.router)
    app.include_router(api_codesets.router)
    app.include_router(api_saved_filters.router)
    app.include_router(api_paper_claims.router)
    app.include_router(api_x12.router)
    app.include_router(api_fees.router)
    app.include_router(api_deposits.router)
    app.include_router(api_patient_payments.router)
    app.include_router(api_payment_entry.router)
    app.include_router(api_remittances.router)
    app.include_router(api_underpayments.router)
    app.include_router(api_forecast.router)
    app.include_router(api_reports.router)
    app.include_router(api_assignment.router)
    app.include_router(api_payer_strategies.router)
    app.include_router(api_appeals.router)
    app.include_router(auth_pages.router)
    app.include_router(main_pages.router)
    app.include_router(work_queue_pages.router)
    app.include_router(import_pages.router)
    app.include_router(alert_pages.router)
    app.include_router(dashboard_pages.router)
    app.include_router(analytics_pages.router)
    app.include_router(insurance_pages.router)
    app.include_router(client_pages.router)
    app.include_router(codeset_pages.router)
    app.include_router(x12_pages.router)
    app.include_router(fee_pages.router)
    app.include_router(followup_rule_pages.router)
    app.include_router(deposit_pages.router)
    app.include_router(front_desk_pages.router)
    app.include_router(payment_entry_pages.router)
    app.include_router(remittance_pages.router)
    app.include_router(underpayment_pages.router)
    app.include_router(forecast_pages.router)
    app.include_router(report_pages.router)
    app.include_router(assignment_pages.router)
    app.include_router(payer_strategy_pages.router)
    app.include_router(appeal_pages.router)
    from revcycle.web.api import reports_ops as api_reports_ops
    from revcycle.web.pages import reports_ops as reports_ops_pages

    app.include_router(api_reports_ops.router)
    app.include_router(reports_ops_pages.router)
