"""The shipped code sets load with the published counts; the CMS order file parses or says where not."""

import gzip
import time
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from revcycle.adapters.codesets import (
    SHIPPED_ICD10_RELEASES,
    CodeSetFileError,
    Icd10Catalog,
    load_icd10_release,
    parse_icd10_order_file,
    place_of_service_codes,
    read_icd10_order_file,
    shipped_scrub_context,
)
from revcycle.domain.scrubber import Icd10Release, scrub

from ..domain.scrubber.claims import clean_claim, codes

FY2025, FY2026 = SHIPPED_ICD10_RELEASES


def test_fy2025_has_the_published_counts() -> None:
    release = load_icd10_release(FY2025)

    assert len(release.billable) == 74_260
    assert len(release.all_codes) == 97_584
    assert (release.valid_from, release.valid_to) == (date(2024, 10, 1), date(2025, 9, 30))


def test_fy2026_has_the_published_counts() -> None:
    release = load_icd10_release(FY2026)

    assert len(release.billable) == 74_719
    assert len(release.all_codes) == 98_186
    assert (release.valid_from, release.valid_to) == (date(2026, 4, 1), date(2026, 9, 30))


def test_billable_codes_are_a_subset_stored_undotted() -> None:
    for shipped in SHIPPED_ICD10_RELEASES:
        release = load_icd10_release(shipped)
        assert release.billable <= release.all_codes
        assert not any("." in code for code in release.all_codes)
        assert release.is_billable("F41.1")
        assert release.contains("F41")
        assert not release.is_billable("F41")


def test_a_release_is_read_once_and_fast() -> None:
    load_icd10_release.cache_clear()
    started = time.perf_counter()
    first = load_icd10_release(FY2026)
    elapsed_s = time.perf_counter() - started

    assert load_icd10_release(FY2026) is first
    assert elapsed_s < 2.0  # about 0.1 s on a laptop


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 9, 30), None),
        (date(2024, 10, 1), "ICD-10-CM FY2025"),
        (date(2025, 9, 30), "ICD-10-CM FY2025"),
        (date(2025, 10, 1), "ICD-10-CM FY2026 (April 1, 2026 update)"),  # nearest of FY2026
        (date(2026, 3, 31), "ICD-10-CM FY2026 (April 1, 2026 update)"),
        (date(2026, 4, 1), "ICD-10-CM FY2026 (April 1, 2026 update)"),
        (date(2026, 9, 30), "ICD-10-CM FY2026 (April 1, 2026 update)"),
        (date(2026, 10, 1), None),
    ],
)
def test_dates_of_service_map_to_releases(day: date, name: str | None) -> None:
    release = Icd10Catalog().release_for(day)

    assert (release.name if release else None) == name


def test_a_loaded_release_covers_its_own_dates() -> None:
    fy2027 = Icd10Release(
        "FY2027", date(2026, 10, 1), date(2027, 9, 30), frozenset({"F411"}), frozenset({"F411"})
    )
    catalog = Icd10Catalog().with_release(fy2027)

    assert catalog.release_for(date(2026, 10, 1)) is fy2027
    assert catalog.release_names[-1] == "FY2027"
    assert catalog.release_for(date(2026, 9, 30)).name.startswith("ICD-10-CM FY2026")  # type: ignore[union-attr]


def test_place_of_service_codes() -> None:
    codes = place_of_service_codes()

    assert len(codes) == 52
    assert {"02", "10", "11", "99"} <= set(codes)
    assert "29" not in codes


def test_a_clean_claim_scrubs_clean_against_the_shipped_code_sets() -> None:
    context = shipped_scrub_context()

    no_ncci = ["scrub.ncci_ptp.no_table"]  # no NCCI table ships: a note, never a warning
    three = clean_claim(diagnosis_codes=("F41.1", "F43.10", "Z65.8"))
    assert codes(scrub(three, context).problems) == no_ncci
    fy2025_claim = clean_claim(
        service_from_on=date(2025, 6, 2),
        today=date(2025, 6, 9),
        coverage=replace(clean_claim().coverage, effective_on=None),
    )
    assert codes(scrub(fy2025_claim, context).problems) == no_ncci
    [problem, _] = scrub(clean_claim(diagnosis_codes=("F41",)), context).problems
    assert problem.code == "scrub.icd10_valid.not_billable"


# -- the CMS order file ------------------------------------------------------------------


def _order_line(order: int, code: str, billable: str, short: str, long: str | None = None) -> str:
    return f"{order:05d} {code:<7} {billable} {short:<60} {long or short}"


GOOD = [
    _order_line(1, "F41", "0", "Other anxiety disorders"),
    _order_line(2, "F411", "1", "Generalized anxiety disorder"),
    _order_line(3, "F4310", "1", "Post-traumatic stress disorder, unspecified"),
    _order_line(4, "Z658", "1", "Oth problems related to psychosocial circumstances"),
]


def test_an_order_file_parses_into_a_release() -> None:
    release = parse_icd10_order_file(
        [*GOOD, ""], name="FY2027", valid_from=date(2026, 10, 1), valid_to=date(2027, 9, 30)
    )

    assert release.all_codes == {"F41", "F411", "F4310", "Z658"}
    assert release.billable == {"F411", "F4310", "Z658"}
    assert release.name == "FY2027"


def test_a_real_fy2025_line_layout_parses() -> None:
    line = (
        "00002 A000    1 Cholera due to Vibrio cholerae 01, biovar cholerae           "
        "Cholera due to Vibrio cholerae 01, biovar cholerae"
    )

    release = parse_icd10_order_file(
        [line], name="x", valid_from=date(2024, 10, 1), valid_to=date(2025, 9, 30)
    )

    assert release.billable == {"A000"}


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("0000X F411    1 Generalized anxiety disorder", 1, "order number"),
        ("00002 F41.1   1 Generalized anxiety disorder", 7, "undotted"),
        ("00002 411     1 Generalized anxiety disorder", 7, "not an undotted"),
        ("00002 F411    Y Generalized anxiety disorder", 15, "billable flag"),
        ("00002  F411   1 Generalized anxiety disorder", 7, "start in column 7"),
        ("00002 F411     1 Generalized anxiety disorder", 15, "billable flag"),
        ("00002\tF411\t1\tGeneralized anxiety disorder", 6, "expected a space"),
        ("00002 F411    1", 16, "ends after 15 characters"),
        ("00002 F411    1" + " " * 70, 17, "short description"),
    ],
)
def test_a_bad_line_names_its_line_and_column(line: str, column: int, words: str) -> None:
    with pytest.raises(CodeSetFileError) as caught:
        parse_icd10_order_file(
            [GOOD[0], line],
            name="x",
            valid_from=date(2026, 10, 1),
            valid_to=date(2027, 9, 30),
            source="f.txt",
        )

    where = [p.where for p in caught.value.problems]
    assert f"f.txt line 2, column {column}" in where
    assert words in str(caught.value.problems[where.index(f"f.txt line 2, column {column}")].message)
    assert str(caught.value).startswith("f.txt line 2, column")


def test_a_repeated_code_is_refused() -> None:
    with pytest.raises(CodeSetFileError, match=r"line 5, column 7: code F411 repeats line 2"):
        parse_icd10_order_file(
            [*GOOD, GOOD[1]], name="x", valid_from=date(2026, 10, 1), valid_to=date(2027, 9, 30)
        )


@pytest.mark.parametrize(("lines", "words"), [([], "no codes"), ([GOOD[0]], "no code is flagged billable")])
def test_a_file_without_billable_codes_is_refused(lines: list[str], words: str) -> None:
    with pytest.raises(CodeSetFileError, match=words):
        parse_icd10_order_file(lines, name="x", valid_from=date(2026, 10, 1), valid_to=date(2027, 9, 30))


def test_every_bad_line_is_reported_up_to_a_limit() -> None:
    bad = ["nonsense"] * 80

    with pytest.raises(CodeSetFileError) as caught:
        parse_icd10_order_file(bad, name="x", valid_from=date(2026, 10, 1), valid_to=date(2027, 9, 30))

    assert len(caught.value.problems) == 50
    assert str(caught.value).endswith("(and 49 more problems)")


def test_read_takes_the_fiscal_year_from_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm_order_2027.txt"
    path.write_text("\r\n".join(GOOD) + "\r\n", encoding="ascii")

    release = read_icd10_order_file(path)

    assert (release.valid_from, release.valid_to) == (date(2026, 10, 1), date(2027, 9, 30))
    assert release.name == "ICD-10-CM FY2027 (icd10cm_order_2027.txt)"
    assert Icd10Catalog().with_release(release).release_for(date(2027, 1, 4)) is release


def test_read_an_april_update_from_the_cms_zip(tmp_path: Path) -> None:
    path = tmp_path / "April-1-2027-Code-Descriptions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Code Descriptions/icd10cm_order_2027.txt", "\n".join(GOOD))
        archive.writestr("Code Descriptions/icd10cm_codes_2027.txt", "F411    Generalized anxiety disorder")

    release = read_icd10_order_file(path, name="FY2027 April", valid_from=date(2027, 4, 1))

    assert (release.name, release.valid_from, release.valid_to) == (
        "FY2027 April",
        date(2027, 4, 1),
        date(2027, 9, 30),
    )


def test_read_without_a_year_needs_the_dates(tmp_path: Path) -> None:
    path = tmp_path / "codes.txt"
    path.write_text("\n".join(GOOD), encoding="ascii")

    with pytest.raises(CodeSetFileError, match="give the dates"):
        read_icd10_order_file(path)
    release = read_icd10_order_file(path, valid_from=date(2026, 10, 1), valid_to=date(2027, 9, 30))
    assert release.name == "ICD-10-CM (codes.txt)"


def test_the_shipped_fy2025_file_round_trips_through_the_order_format() -> None:
    # The shipped FY2025 TSV is the CMS order file's content: written back in the fixed-width
    # layout, the parser must read the same release.
    resource = Path(__file__).parents[3] / "src/revcycle/codesets" / FY2025.resource
    with gzip.open(resource, "rt", encoding="utf-8") as text:
        next(text)
        rows = [line.rstrip("\n").split("\t") for line in text]
    lines = [
        _order_line(n, code, flag, short[:60], long) for n, (code, _, flag, short, long) in enumerate(rows, 1)
    ]

    release = parse_icd10_order_file(
        lines, name=FY2025.name, valid_from=FY2025.valid_from, valid_to=FY2025.valid_to
    )

    assert release == load_icd10_release(FY2025)
