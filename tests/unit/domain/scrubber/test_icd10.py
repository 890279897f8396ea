"""ICD-10-CM releases: code shapes, fiscal years and which release covers a date."""

from datetime import date

import pytest

from revcycle.domain.scrubber import Icd10Release, Icd10ReleaseSet, choose_release, fiscal_year_window
from revcycle.domain.scrubber.icd10 import fiscal_year_of, icd10_code_is_well_formed, normalize_icd10

from .claims import FY2025, FY2026


def _release(name: str, start: date, end: date) -> Icd10Release:
    return Icd10Release(name, start, end, frozenset(), frozenset())


def test_codes_are_kept_undotted_and_upper_case() -> None:
    assert normalize_icd10(" f41.1 ") == "F411"
    assert FY2026.is_billable("F43.10")
    assert FY2026.is_billable("f4310")
    assert FY2026.contains("F43.1")
    assert not FY2026.is_billable("F43.1")


@pytest.mark.parametrize("code", ["F41", "F41.1", "F4310", "S72.001A", "s72001a", "Z65.8"])
def test_well_formed_codes(code: str) -> None:
    assert icd10_code_is_well_formed(code)


@pytest.mark.parametrize("code", ["", "F4", "41.1", "F41.10000", "F4.11", "F41-1", "296.30"])
def test_malformed_codes(code: str) -> None:
    assert not icd10_code_is_well_formed(code)


def test_fiscal_years_start_on_october_first() -> None:
    assert fiscal_year_of(date(2025, 9, 30)) == 2025
    assert fiscal_year_of(date(2025, 10, 1)) == 2026
    assert fiscal_year_window(2026) == (date(2025, 10, 1), date(2026, 9, 30))


def test_the_release_covering_the_date_is_chosen() -> None:
    releases = Icd10ReleaseSet((FY2025, FY2026))

    assert releases.release_for(date(2025, 9, 30)) is FY2025
    assert releases.release_for(date(2025, 10, 1)) is FY2026
    assert releases.release_for(date(2024, 9, 30)) is None
    assert releases.release_for(date(2026, 10, 1)) is None


def test_an_update_within_the_year_wins_from_its_start() -> None:
    october = _release("FY2026", date(2025, 10, 1), date(2026, 9, 30))
    april = _release("FY2026 April", date(2026, 4, 1), date(2026, 9, 30))

    assert choose_release([april, october], date(2026, 3, 31)) is october
    assert choose_release([april, october], date(2026, 4, 1)) is april


def test_a_later_release_with_the_same_dates_replaces_an_earlier_one() -> None:
    shipped = _release("shipped", date(2025, 10, 1), date(2026, 9, 30))
    loaded = _release("loaded", date(2025, 10, 1), date(2026, 9, 30))

    assert choose_release([shipped, loaded], date(2026, 1, 1)) is loaded


def test_without_a_covering_release_the_nearest_of_the_fiscal_year_stands_in() -> None:
    april = _release("FY2026 April", date(2026, 4, 1), date(2026, 9, 30))
    fy2025 = _release("FY2025", date(2024, 10, 1), date(2025, 9, 30))

    assert choose_release([fy2025, april], date(2025, 10, 1)) is april
    assert choose_release([fy2025, april], date(2026, 10, 1)) is None
    assert choose_release([], date(2026, 1, 1)) is None


def test_a_release_repr_stays_short() -> None:
    assert repr(FY2025) == "Icd10Release('FY2025 (test)', 2024-10-01..2025-09-30, 3 billable of 7)"
