"""The session pipeline: derived stages, and realistic histories that only move legally."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.domain.claim_status import (
    LOCKED_STATUSES,
    ClaimStatus,
    allowed_targets,
    is_reversal,
)
from revcycle.domain.pipeline import (
    STAGE_COLOURS,
    STAGE_LABELS,
    STAGE_TRANSITIONS,
    InvalidStageChange,
    PipelineStage,
    SessionFacts,
    check_stage_change,
    derive_stage,
    stage_for_claim,
)

S = ClaimStatus
G = PipelineStage

UPCOMING = SessionFacts(
    appointment_status="scheduled",
    held=False,
    note_locked=False,
    has_holding_flag=False,
    self_pay=False,
    has_fee=False,
    claim_statuses=(),
    patient_balance_cents=0,
)
HELD = replace(UPCOMING, appointment_status="show", held=True)
DOCUMENTED = replace(HELD, note_locked=True)


def billed(*statuses: ClaimStatus, balance: int = 0) -> SessionFacts:
    return replace(DOCUMENTED, claim_statuses=statuses, patient_balance_cents=balance)


def test_colours_and_labels_cover_every_stage() -> None:
    assert set(STAGE_COLOURS) == set(PipelineStage)
    assert set(STAGE_LABELS) == set(PipelineStage)
    assert set(STAGE_TRANSITIONS) == set(PipelineStage)
    assert STAGE_LABELS[G.READY_TO_BILL] == "Ready to bill"
    for colour in STAGE_COLOURS.values():
        assert len(colour) == 7
        assert colour.startswith("#")
        int(colour[1:], 16)


@pytest.mark.parametrize(
    ("stage", "colour"),
    [
        (G.READY_TO_BILL, "#2563eb"),
        (G.SUBMITTED, "#9333ea"),
        (G.PENDING, "#eab308"),
        (G.APPROVED, "#4ade80"),
        (G.PAID, "#16a34a"),
        (G.DENIED, "#dc2626"),
        (G.APPEALING, "#ea580c"),
    ],
)
def test_the_mock_up_colours(stage: PipelineStage, colour: str) -> None:
    assert STAGE_COLOURS[stage] == colour


@pytest.mark.parametrize(
    ("facts", "stage"),
    [
        (UPCOMING, G.SCHEDULED),
        (replace(UPCOMING, has_holding_flag=True), G.SCHEDULED),
        (replace(UPCOMING, appointment_status="no_show"), G.NOT_BILLABLE),
        (replace(UPCOMING, appointment_status="canceled"), G.NOT_BILLABLE),
        (
            replace(UPCOMING, appointment_status="late_cancel", has_fee=True, patient_balance_cents=5000),
            G.PATIENT_BALANCE,
        ),
        (replace(UPCOMING, appointment_status="no_show", has_fee=True), G.PAID),
        (HELD, G.COMPLETED),
        (replace(HELD, has_holding_flag=True), G.NEEDS_REVIEW),
        (DOCUMENTED, G.DOCUMENTED),
        (replace(DOCUMENTED, has_holding_flag=True), G.NEEDS_REVIEW),
        (replace(DOCUMENTED, self_pay=True), G.NOT_BILLABLE),
        (replace(DOCUMENTED, self_pay=True, has_holding_flag=True), G.NOT_BILLABLE),
        (replace(HELD, self_pay=True), G.COMPLETED),
        (billed(S.DRAFT), G.READY_TO_BILL),
        (replace(HELD, claim_statuses=(S.DRAFT,)), G.READY_TO_BILL),
        (billed(S.READY), G.READY_TO_BILL),
        (replace(billed(S.READY), has_holding_flag=True), G.NEEDS_REVIEW),
        (billed(S.SUBMITTED), G.SUBMITTED),
        (replace(billed(S.SUBMITTED), has_holding_flag=True), G.SUBMITTED),
        (billed(S.ACKNOWLEDGED), G.SUBMITTED),
        (billed(S.REJECTED), G.SUBMITTED),
        (billed(S.ACCEPTED), G.PENDING),
        (billed(S.ADJUDICATED), G.APPROVED),
        (billed(S.ADJUDICATED, balance=2000), G.APPROVED),
        (billed(S.PAID), G.PAID),
        (billed(S.PAID, balance=2000), G.PATIENT_BALANCE),
        (billed(S.PARTIALLY_PAID), G.PAID),
        (billed(S.PARTIALLY_PAID, balance=1), G.PATIENT_BALANCE),
        (billed(S.PAID, balance=-500), G.PAID),  # a credit balance is not owed
        (billed(S.DENIED), G.DENIED),
        (billed(S.APPEALED), G.APPEALING),
        (billed(S.VOID), G.NOT_BILLABLE),
        (billed(S.VOID, S.VOID), G.NOT_BILLABLE),
        (billed(S.WRITTEN_OFF), G.WRITTEN_OFF),
        # several claims: the least advanced open one
        (billed(S.VOID, S.SUBMITTED), G.SUBMITTED),
        (billed(S.PAID, S.DRAFT), G.READY_TO_BILL),
        (billed(S.PARTIALLY_PAID, S.SUBMITTED), G.SUBMITTED),
        (billed(S.PAID, S.WRITTEN_OFF), G.PAID),
        (billed(S.PAID, S.PAID, balance=100), G.PATIENT_BALANCE),
        (billed(S.WRITTEN_OFF, S.WRITTEN_OFF), G.WRITTEN_OFF),
        (billed(S.DENIED, S.ACCEPTED), G.PENDING),
    ],
)
def test_derive_stage(facts: SessionFacts, stage: PipelineStage) -> None:
    assert derive_stage(facts) is stage


def test_stage_for_one_claim() -> None:
    assert stage_for_claim(S.ACKNOWLEDGED) is G.SUBMITTED
    assert stage_for_claim(S.PARTIALLY_PAID, patient_balance_cents=10) is G.PATIENT_BALANCE
    assert {stage_for_claim(status) for status in ClaimStatus} <= set(PipelineStage)


def test_no_change_is_always_fine() -> None:
    for stage in PipelineStage:
        check_stage_change(stage, stage)


def test_paid_is_locked_except_by_a_correction() -> None:
    for paid in (G.PAID, G.PATIENT_BALANCE):
        with pytest.raises(InvalidStageChange, match="locked except by a correction"):
            check_stage_change(paid, G.PENDING)
        check_stage_change(paid, G.PENDING, correction=True)
        with pytest.raises(InvalidStageChange, match="no billing history"):
            check_stage_change(paid, G.SUBMITTED, correction=True)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (G.SCHEDULED, G.PAID),
        (G.COMPLETED, G.SUBMITTED),
        (G.DOCUMENTED, G.PENDING),
        (G.NEEDS_REVIEW, G.SCHEDULED),
        (G.PENDING, G.READY_TO_BILL),
        (G.WRITTEN_OFF, G.READY_TO_BILL),
        (G.DENIED, G.SUBMITTED),
        (G.APPROVED, G.SUBMITTED),
    ],
)
def test_changes_no_history_produces_are_refused(before: PipelineStage, after: PipelineStage) -> None:
    with pytest.raises(InvalidStageChange) as caught:
        check_stage_change(before, after, correction=True)
    assert caught.value.before is before
    assert caught.value.after is after
    assert f"from {before} to {after}" in str(caught.value)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (G.COMPLETED, G.READY_TO_BILL),  # note locked and claim drafted the same day
        (G.SUBMITTED, G.PAID),
        (G.SUBMITTED, G.DENIED),
        (G.SUBMITTED, G.APPROVED),
        (G.PENDING, G.PAID),
        (G.PENDING, G.DENIED),
        (G.DENIED, G.APPEALING),
        (G.APPEALING, G.SUBMITTED),
        (G.APPEALING, G.PAID),
    ],
)
def test_the_designed_flow(before: PipelineStage, after: PipelineStage) -> None:
    check_stage_change(before, after)


# --- realistic histories ------------------------------------------------------------------
# Each step changes one fact the way the practice or a payer would; every derived change of
# stage must be one STAGE_TRANSITIONS allows (with correction only for a payer's reversal or
# a correction out of paid).


def _steps(facts: SessionFacts) -> list[str]:
    """The things that can happen next to this session."""
    if not facts.held:
        if facts.appointment_status == "scheduled":
            return ["hold", "miss"]
        return ["pay"] if facts.patient_balance_cents > 0 else []
    steps = ["toggle_note", "toggle_flag"]
    live = [status for status in facts.claim_statuses if status is not S.VOID]
    if _may_draft(live, facts):
        steps.append("draft")
    if any(allowed_targets(status, correction=True) for status in facts.claim_statuses):
        steps.append("claim")
    if any(status in (S.PAID, S.PARTIALLY_PAID) for status in live):
        steps.append("balance")
    return steps


def _may_draft(live: list[ClaimStatus], facts: SessionFacts) -> bool:
    if facts.self_pay or len(facts.claim_statuses) >= 4:
        return False
    # the first claim, a replacement after a void, or a secondary once the primary has paid
    return not live or (len(live) == 1 and live[0] in (S.PAID, S.PARTIALLY_PAID))


def _apply(draw: st.DrawFn, facts: SessionFacts, step: str) -> tuple[SessionFacts, bool]:
    """The facts after ``step``, and whether the step was a correction."""
    if step == "hold":
        return replace(
            facts, held=True, appointment_status=draw(st.sampled_from(["show", "completed"]))
        ), False
    if step == "miss":
        fee = draw(st.sampled_from([0, 2500, 7500]))
        status = draw(st.sampled_from(["no_show", "late_cancel", "canceled"]))
        return replace(facts, appointment_status=status, has_fee=fee > 0, patient_balance_cents=fee), False
    if step == "pay":
        return replace(facts, patient_balance_cents=0), False
    if step == "toggle_note":
        return replace(facts, note_locked=not facts.note_locked), False
    if step == "toggle_flag":
        return replace(facts, has_holding_flag=not facts.has_holding_flag), False
    if step == "draft":
        return replace(facts, claim_statuses=(*facts.claim_statuses, S.DRAFT)), False
    if step == "balance":
        balance = draw(st.sampled_from([0, 0, 1, 2000, 15000]))
        return replace(facts, patient_balance_cents=balance), False
    return _move_a_claim(draw, facts)


def _move_a_claim(draw: st.DrawFn, facts: SessionFacts) -> tuple[SessionFacts, bool]:
    movable = [
        index
        for index, status in enumerate(facts.claim_statuses)
        if _targets(status, flagged=facts.has_holding_flag)
    ]
    if not movable:
        return facts, False
    index = draw(st.sampled_from(movable))
    current = facts.claim_statuses[index]
    target = draw(st.sampled_from(sorted(_targets(current, flagged=facts.has_holding_flag))))
    correction = current in LOCKED_STATUSES or is_reversal(current, target)
    statuses = list(facts.claim_statuses)
    statuses[index] = target
    return replace(facts, claim_statuses=tuple(statuses)), correction


def _targets(current: ClaimStatus, *, flagged: bool) -> frozenset[ClaimStatus]:
    targets = allowed_targets(current, correction=True)
    # an open import flag holds the claim: nobody sends it while the flag is open
    if flagged and current is S.READY:
        targets -= {S.SUBMITTED}
    return targets


@settings(max_examples=400)
@given(st.data(), st.booleans())
def test_every_history_moves_the_stage_legally(data: st.DataObject, self_pay: bool) -> None:
    facts = replace(UPCOMING, self_pay=self_pay)
    stage = derive_stage(facts)
    for _ in range(data.draw(st.integers(min_value=1, max_value=40), label="length")):
        steps = _steps(facts)
        if not steps:
            break
        step = data.draw(st.sampled_from(steps), label="step")
        facts, correction = _apply(data.draw, facts, step)
        after = derive_stage(facts)
        check_stage_change(stage, after, correction=correction)
        stage = after


def test_a_typical_history() -> None:
    history = [
        (UPCOMING, G.SCHEDULED),
        (HELD, G.COMPLETED),
        (DOCUMENTED, G.DOCUMENTED),
        (billed(S.DRAFT), G.READY_TO_BILL),
        (billed(S.READY), G.READY_TO_BILL),
        (billed(S.SUBMITTED), G.SUBMITTED),
        (billed(S.ACKNOWLEDGED), G.SUBMITTED),
        (billed(S.ACCEPTED), G.PENDING),
        (billed(S.DENIED), G.DENIED),
        (billed(S.APPEALED), G.APPEALING),
        (billed(S.PARTIALLY_PAID, balance=2000), G.PATIENT_BALANCE),
        (billed(S.PARTIALLY_PAID, S.DRAFT, balance=2000), G.READY_TO_BILL),
        (billed(S.PARTIALLY_PAID, S.SUBMITTED, balance=2000), G.SUBMITTED),
        (billed(S.PARTIALLY_PAID, S.PAID, balance=0), G.PAID),
    ]
    stage = G.SCHEDULED
    for facts, expected in history:
        after = derive_stage(facts)
        assert after is expected
        check_stage_change(stage, after)
        stage = after
