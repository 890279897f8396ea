"""Claim status: the transition table and the outside vocabularies mapped onto it."""

import itertools

import pytest

from revcycle.domain.claim_status import (
    LOCKED_STATUSES,
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    ClaimStatus,
    EventSource,
    InvalidTransition,
    allowed_targets,
    check_transition,
    is_reversal,
    status_from_277,
    status_from_277ca,
    status_from_835,
    status_from_999,
    status_from_portal,
)

S = ClaimStatus

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
REFUSED = [
    (a, b) for a, b in itertools.product(ClaimStatus, ClaimStatus) if b not in TRANSITIONS[a]
]


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(ClaimStatus)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_move_in_the_table_is_allowed(current: ClaimStatus, target: ClaimStatus) -> None:
    check_transition(current, target, correction=current in LOCKED_STATUSES)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_move_not_in_the_table_is_refused(current: ClaimStatus, target: ClaimStatus) -> None:
    for correction in (False, True):
        with pytest.raises(InvalidTransition) as caught:
            check_transition(current, target, correction=correction)
        assert caught.value.current is current
        assert caught.value.target is target
        assert f"from {current} to {target}" in str(caught.value)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT, S.READY),
        (S.READY, S.SUBMITTED),
        (S.READY, S.DRAFT),
        (S.SUBMITTED, S.ACKNOWLEDGED),
        (S.SUBMITTED, S.REJECTED),
        (S.ACKNOWLEDGED, S.ACCEPTED),
        (S.ACKNOWLEDGED, S.REJECTED),
        (S.ACCEPTED, S.ADJUDICATED),
        (S.ACCEPTED, S.REJECTED),
        (S.REJECTED, S.READY),
        (S.REJECTED, S.SUBMITTED),
        (S.ADJUDICATED, S.PAID),
        (S.ADJUDICATED, S.PARTIALLY_PAID),
        (S.ADJUDICATED, S.DENIED),
        (S.DENIED, S.APPEALED),
        (S.APPEALED, S.SUBMITTED),
        (S.APPEALED, S.PAID),
        (S.APPEALED, S.PARTIALLY_PAID),
        (S.APPEALED, S.DENIED),
        (S.PARTIALLY_PAID, S.PAID),
        (S.PARTIALLY_PAID, S.WRITTEN_OFF),
    ],
)
def test_the_designed_flow(current: ClaimStatus, target: ClaimStatus) -> None:
    check_transition(current, target)


@pytest.mark.parametrize("current", [S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED])
@pytest.mark.parametrize("decision", [S.ADJUDICATED, S.PAID, S.PARTIALLY_PAID, S.DENIED])
def test_a_payer_decision_may_skip_steps(current: ClaimStatus, decision: ClaimStatus) -> None:
    check_transition(current, decision)


@pytest.mark.parametrize("current", [S.ADJUDICATED, S.PARTIALLY_PAID, S.DENIED])
def test_a_reversal_goes_back_to_accepted(current: ClaimStatus) -> None:
    check_transition(current, S.ACCEPTED)
    assert is_reversal(current, S.ACCEPTED)


def test_reversal_helper() -> None:
    assert is_reversal(S.PAID, S.ACCEPTED)
    assert not is_reversal(S.SUBMITTED, S.ACCEPTED)
    assert not is_reversal(S.PAID, S.VOID)


@pytest.mark.parametrize("current", sorted(OPEN_STATUSES))
@pytest.mark.parametrize("target", [S.VOID, S.WRITTEN_OFF])
def test_any_open_claim_may_be_voided_or_written_off(
    current: ClaimStatus, target: ClaimStatus
) -> None:
    check_transition(current, target)


def test_open_and_terminal() -> None:
    assert {S.VOID, S.WRITTEN_OFF} == TERMINAL_STATUSES
    assert set(ClaimStatus) - {S.PAID, S.VOID, S.WRITTEN_OFF} == OPEN_STATUSES
    for status in TERMINAL_STATUSES:
        assert allowed_targets(status) == frozenset()
        assert allowed_targets(status, correction=True) == frozenset()


def test_paid_is_locked_except_by_a_correction() -> None:
    assert allowed_targets(S.PAID) == frozenset()
    assert allowed_targets(S.PAID, correction=True) == {S.ACCEPTED, S.VOID, S.WRITTEN_OFF}
    for target in (S.ACCEPTED, S.VOID, S.WRITTEN_OFF):
        with pytest.raises(InvalidTransition, match="locked except by a correction"):
            check_transition(S.PAID, target)
        check_transition(S.PAID, target, correction=True)


def test_refusal_messages_explain() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(S.PAID, S.SUBMITTED)
    assert str(caught.value) == (
        "a claim cannot go from paid to submitted; paid is locked except by a correction"
    )
    with pytest.raises(InvalidTransition, match="void is final"):
        check_transition(S.VOID, S.READY)
    with pytest.raises(InvalidTransition, match="already submitted"):
        check_transition(S.SUBMITTED, S.SUBMITTED)
    with pytest.raises(InvalidTransition, match="from draft it may go to ready, void, written_off"):
        check_transition(S.DRAFT, S.PAID)


def test_event_sources_use_the_message_names() -> None:
    assert EventSource.IMPORT == "import"
    assert EventSource.X12_999 == "999"
    assert EventSource.X12_277CA == "277CA"
    assert EventSource.X12_277 == "277"
    assert EventSource.X12_835 == "835"
    assert [source.value for source in EventSource] == [
        "user",
        "system",
        "import",
        "999",
        "277CA",
        "277",
        "835",
        "portal",
    ]


# --- mappings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("A", S.ACKNOWLEDGED),
        ("E", S.ACKNOWLEDGED),
        (" a ", S.ACKNOWLEDGED),
        ("R", S.REJECTED),
        ("M", S.REJECTED),
        ("W", S.REJECTED),
        ("X", S.REJECTED),
    ],
)
def test_999(code: str, status: ClaimStatus) -> None:
    assert status_from_999(code) is status


def test_999_partial_acceptance_is_not_a_claim_answer() -> None:
    with pytest.raises(ValueError, match="IK5"):
        status_from_999("P")


def test_999_unknown_code_is_named() -> None:
    with pytest.raises(ValueError, match="'Q'"):
        status_from_999("Q")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("A0", S.ACKNOWLEDGED),
        ("A1", S.ACKNOWLEDGED),
        ("A2", S.ACCEPTED),
        ("a2 ", S.ACCEPTED),
        ("A3", S.REJECTED),
        ("A4", S.REJECTED),
        ("A5", S.ACCEPTED),
        ("A6", S.REJECTED),
        ("A7", S.REJECTED),
        ("A8", S.REJECTED),
        ("DR01", None),
        ("E0", None),
        ("R4", None),
        ("R16", None),
        ("RQ", None),
        ("D0", None),
    ],
)
def test_277ca(code: str, status: ClaimStatus | None) -> None:
    assert status_from_277ca(code) is status


@pytest.mark.parametrize("code", ["F1", "P1", "A9", "Z", "", "DR09", "E5"])
def test_277ca_refuses_codes_it_does_not_carry(code: str) -> None:
    with pytest.raises(ValueError, match="277CA"):
        status_from_277ca(code)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("F0", S.ADJUDICATED),
        ("F1", S.ADJUDICATED),
        ("F2", S.DENIED),
        ("F3", S.ADJUDICATED),
        ("F3F", S.ADJUDICATED),
        ("F3N", S.ADJUDICATED),
        ("F4", S.ADJUDICATED),
        ("F5", S.REJECTED),
        ("P0", S.ACCEPTED),
        ("P1", S.ACCEPTED),
        ("P2", S.ACCEPTED),
        ("P3", S.ACCEPTED),
        ("P4", S.ACCEPTED),
        ("P5", S.ACCEPTED),
        ("A1", S.ACKNOWLEDGED),
        ("A2", S.ACCEPTED),
        ("A3", S.REJECTED),
        ("R0", None),
        ("R3", None),
        ("E1", None),
        ("RQ", None),
    ],
)
def test_277(code: str, status: ClaimStatus | None) -> None:
    assert status_from_277(code) is status


def test_277_unknown_code_is_named() -> None:
    with pytest.raises(ValueError, match="'F9'"):
        status_from_277("F9")


@pytest.mark.parametrize("code", ["1", "2", "3", "19", "20", "21"])
def test_835_processed(code: str) -> None:
    paid = status_from_835(
        code, charge_cents=15000, paid_cents=9000, patient_responsibility_cents=2000
    )
    assert paid is S.PAID
    partial = status_from_835(
        code,
        charge_cents=15000,
        paid_cents=9000,
        patient_responsibility_cents=0,
        is_partial=True,
    )
    assert partial is S.PARTIALLY_PAID
    nothing = status_from_835(
        code, charge_cents=15000, paid_cents=0, patient_responsibility_cents=0
    )
    assert nothing is S.DENIED
    all_to_patient = status_from_835(
        code, charge_cents=15000, paid_cents=0, patient_responsibility_cents=11000
    )
    assert all_to_patient is S.PAID


@pytest.mark.parametrize(
    ("code", "status"),
    [(" 4", S.DENIED), ("22", S.ACCEPTED), ("23", S.ADJUDICATED), ("25", None)],
)
def test_835_fixed_codes(code: str, status: ClaimStatus | None) -> None:
    result = status_from_835(
        code,
        charge_cents=15000,
        paid_cents=-9000 if code == "22" else 0,
        patient_responsibility_cents=0,
    )
    assert result is status


def test_835_zero_charge_processed_is_paid() -> None:
    assert (
        status_from_835("1", charge_cents=0, paid_cents=0, patient_responsibility_cents=0) is S.PAID
    )


def test_835_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="'5'"):
        status_from_835("5", charge_cents=1, paid_cents=0, patient_responsibility_cents=0)
    with pytest.raises(ValueError, match="reversal"):
        status_from_835("1", charge_cents=1, paid_cents=-1, patient_responsibility_cents=0)
    with pytest.raises(ValueError, match="charge_cents"):
        status_from_835("1", charge_cents=-1, paid_cents=0, patient_responsibility_cents=0)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Adjudicated", S.ADJUDICATED),
        ("Processed", S.ADJUDICATED),
        ("FINALIZED", S.ADJUDICATED),
        ("approved ", S.ADJUDICATED),
        ("Paid", S.PAID),
        ("Partially Paid", S.PARTIALLY_PAID),
        ("partially  paid", S.PARTIALLY_PAID),
        ("Partially-Paid", S.PARTIALLY_PAID),
        ("Denied", S.DENIED),
        ("Rejected", S.REJECTED),
        ("Received", S.ACKNOWLEDGED),
        ("Acknowledged", S.ACKNOWLEDGED),
        ("Accepted", S.ACCEPTED),
        ("In Process", S.ACCEPTED),
        ("\tin process\n", S.ACCEPTED),
        ("Pending", S.ACCEPTED),
        ("Submitted", S.SUBMITTED),
    ],
)
def test_portal(text: str, status: ClaimStatus) -> None:
    assert status_from_portal(text) is status


def test_portal_unknown_wording_is_named() -> None:
    with pytest.raises(ValueError, match="'On the moon'"):
        status_from_portal("On the moon")


def test_every_mapped_status_is_reachable_from_some_state() -> None:
    # A mapping that produced a status no transition leads to would be dead on arrival.
    reachable = {target for targets in TRANSITIONS.values() for target in targets}
    for status in [
        S.ACKNOWLEDGED,
        S.ACCEPTED,
        S.ADJUDICATED,
        S.PAID,
        S.PARTIALLY_PAID,
        S.DENIED,
        S.REJECTED,
        S.SUBMITTED,
    ]:
        assert status in reachable
