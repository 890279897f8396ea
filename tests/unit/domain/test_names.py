from __future__ import annotations

import pytest

from revcycle.domain.names import payer_key, person_key, person_key_of


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Jane O'Neil", "O'NEIL, JANE"),
        ("José  Álvarez", "alvarez, jose"),
        ("Mary-Kate Smith", "smith mary kate"),
    ],
)
def test_person_keys_agree_across_spellings(left: str, right: str) -> None:
    assert person_key(left) == person_key(right)


def test_person_key_of_first_and_last() -> None:
    assert person_key_of("Jane", "O'Neil") == person_key("O'Neil, Jane") == "jane oneil"


def test_different_people_differ() -> None:
    assert person_key("Jane Smith") != person_key("Janet Smith")


def test_payer_key_keeps_order_and_drops_noise() -> None:
    assert payer_key("AmeriChoice NJ  Medicaid  NJ Family Care") == "americhoice nj medicaid nj family care"
    assert payer_key("Blue Cross of New Jersey") != payer_key("New Jersey of Blue Cross")
