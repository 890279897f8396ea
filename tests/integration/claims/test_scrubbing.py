"""Scrubbing a stored claim: facts from its rows, runs kept, warnings overridden with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.errors import InvalidInput
from revcycle.services.claims_pipeline import scrubbing
from tests import factories as f
from tests.integration.claims.conftest import TODAY, Office


def _claim(office: Office, **session_kwargs: object) -> m.Claim:
    claim = f.make_claim(office.db, office.visit(**session_kwargs), office.coverage)
    claim.diagnosis_codes = ["F41.1"]
    claim.place_of_service = "11"
    office.db.flush()
    return claim


def test_a_complete_claim_scrubs_clean_and_the_run_is_kept(office: Office) -> None:
    claim = _claim(office)
    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=claim.id, today=TODAY)
    assert state.errors == ()
    assert state.open_warnings == ()
    assert state.is_clean
    run = office.db.scalars(select(m.ClaimScrub).where(m.ClaimScrub.claim_id == claim.id)).one()
    assert run.edits[0] == "required_fields"
    assert "timely_filing" in run.edits
    assert run.has_errors is False
    assert run.ran_by_user_id == office.user.id


def test_facts_carry_the_billing_entity_patient_coverage_and_payer_settings(office: Office) -> None:
    office.settings.requires_prior_auth = True
    office.settings.timely_filing_days = 180
    office.db.add(
        m.Authorization(
            practice_id=office.practice.id,
            client_id=office.client.id,
            coverage_id=office.coverage.id,
            number="AUTH-1",
            visits_allowed=10,
            visits_used=3,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 6, 30),
        )
    )
    claim = _claim(office)
    facts = scrubbing.claim_facts(office.db, claim, today=TODAY)
    assert facts.billing_provider.npi == office.practice.group_npi
    assert facts.billing_provider.address.postal_code == "071021234"
    assert facts.patient.last_name == office.client.last_name
    assert facts.coverage.member_id == office.coverage.member_id
    assert facts.payer.requires_prior_auth is True
    assert facts.payer.filing_limit_days == 180
    assert facts.authorization is not None
    assert facts.authorization.visits_used == 3
    assert facts.rendering_provider is not None
    assert facts.rendering_provider.npi == office.provider.npi
    assert facts.lines[0].diagnosis_pointers == (1,)


def test_a_missing_prior_authorization_is_an_error_that_cannot_be_overridden(office: Office) -> None:
    office.settings.requires_prior_auth = True
    claim = _claim(office)
    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=claim.id, today=TODAY)
    [error] = state.errors
    assert error.code == "scrub.prior_authorization.missing"
    assert not state.is_clean
    with pytest.raises(InvalidInput, match="cannot be overridden"):
        scrubbing.override_warning(
            office.db,
            actor=office.actor,
            claim_id=claim.id,
            problem_code=error.code,
            where=error.where,
            reason="we will get it later",
        )


def test_a_warning_overridden_with_a_reason_leaves_the_claim_clean_and_is_audited(office: Office) -> None:
    claim = _claim(office)
    near_deadline = date(2026, 5, 15)  # 90-day limit ends 2026-05-31: within 30 days
    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=claim.id, today=near_deadline)
    [warning] = state.open_warnings
    assert warning.code == "scrub.timely_filing.near"
    assert state.errors == ()
    assert not state.is_clean
    with pytest.raises(InvalidInput, match="reason"):
        scrubbing.override_warning(
            office.db,
            actor=office.actor,
            claim_id=claim.id,
            problem_code=warning.code,
            where=warning.where,
            reason=" ",
        )
    scrubbing.override_warning(
        office.db,
        actor=office.actor,
        claim_id=claim.id,
        problem_code=warning.code,
        where=warning.where,
        reason="going out today",
    )
    assert scrubbing.scrub_state(office.db, claim.id).is_clean
    entry = office.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "scrub_override")).one()
    assert entry.reason == "going out today"
    assert entry.client_ids == [office.client.id]
    # a rescrub finding the same warning keeps the override
    again = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=claim.id, today=near_deadline)
    assert again.is_clean


def test_a_five_digit_billing_zip_is_an_error(office: Office) -> None:
    office.practice.postal_code = "07102"
    claim = _claim(office)
    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=claim.id, today=TODAY)
    assert [p.where for p in state.errors] == ["billing provider address ZIP code"]
