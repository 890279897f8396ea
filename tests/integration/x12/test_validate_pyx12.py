"""`x12 validate`, ``POST /api/x12/validate`` and the /x12 page's check give pyx12's verdict
beside our structural one: clean for a batch we wrote, the segment and element named for a
place of service our readers let through, "no map" for a 270, and plain structural checks
when pyx12 is not installed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revcycle.cli import build_app
from tests.integration.claims.conftest import office
from tests.integration.conftest import csrf_from, login
from tests.integration.x12.test_batches import practice_routed
from tests.integration.x12.test_x12_web import Web, _written, web
from tests.unit.x12.test_claim837 import a_claim_set
from tests.unit.x12.test_pyx12_judge import eligibility_270, write

__all__ = ["office", "practice_routed", "web"]

CLAIM_837 = "837 (005010X222A1)"
NO_MAP_270 = "pyx12 has no map for 270 (005010X279A1)"


def _with_bad_place_of_service(text: str) -> tuple[str, int]:
    """The batch with its first claim's CLM05-1 set to "AA" (no place of service), and that
    CLM's position in the file. Our readers take any two characters there; pyx12 knows the list."""
    segments = [segment.strip() for segment in text.split("~")]
    position = next(n for n, segment in enumerate(segments, start=1) if segment.startswith("CLM*"))
    clm = segments[position - 1]
    broken = re.sub(r"^((?:[^*]*\*){5})\d\d:", r"\1AA:", clm)
    assert broken != clm
    return text.replace(clm, broken, 1), position


def _validate(tmp_path: Path, name: str, text: str, *options: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(text)
    result = CliRunner().invoke(build_app(), ["x12", "validate", str(path), *options])
    return result.exit_code, result.output


def _without_pyx12(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "pyx12" or name.startswith("pyx12.")]:
        monkeypatch.setitem(sys.modules, name, None)


def test_a_batch_we_wrote_is_clean_for_pyx12_through_the_api_and_the_cli(web: Web, tmp_path: Path) -> None:
    written = _written(web.office)

    response = web.client.post(
        "/api/x12/validate", files={"file": ("batch.837", written.text.encode())}, headers=web.billing
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["transaction_sets"] == {CLAIM_837: 1}
    assert body["pyx12"] == {"ok": True, "checked": [CLAIM_837], "no_map": [], "errors": [], "stale": []}

    code, output = _validate(tmp_path, "batch.837", written.text)
    assert code == 0, output
    assert f"batch.837: OK, 1 interchange(s), 1 transaction set(s): 1 x {CLAIM_837}" in output
    assert f"pyx12: OK, checked {CLAIM_837}" in output


def test_pyx12_names_a_segment_our_readers_let_through(web: Web, tmp_path: Path) -> None:
    text, position = _with_bad_place_of_service(_written(web.office).text)

    response = web.client.post(
        "/api/x12/validate", files={"file": ("bad.837", text.encode())}, headers=web.billing
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["transaction_sets"] == {CLAIM_837: 1}  # our structural check: fine
    verdict = body["pyx12"]
    assert (verdict["ok"], verdict["checked"]) == (False, [CLAIM_837])
    [error] = verdict["errors"]
    assert (error["position"], error["segment_id"], error["element"]) == (position, "CLM", "CLM05-1")
    assert "(AA) is not a valid code for Place of Service" in error["message"]

    code, output = _validate(tmp_path, "bad.837", text)
    assert code == 1, output
    assert "bad.837: OK, 1 interchange(s)" in output
    assert f"pyx12: 1 error in {CLAIM_837}" in output
    assert f"segment {position} (CLM), CLM05-1: (AA) is not a valid code" in output

    code, output = _validate(tmp_path, "bad.837", text, "--no-pyx12")
    assert code == 0, output
    assert "pyx12" not in output


def test_a_270_is_read_by_us_and_pyx12_says_it_has_no_map(web: Web, tmp_path: Path) -> None:
    inquiry = eligibility_270()

    response = web.client.post(
        "/api/x12/validate", files={"file": ("ask.270", inquiry.encode())}, headers=web.billing
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["transaction_sets"] == {"270 (005010X279A1)": 1}
    assert body["pyx12"] == {"ok": True, "checked": [], "no_map": [NO_MAP_270], "errors": [], "stale": []}

    code, output = _validate(tmp_path, "ask.270", inquiry)
    assert code == 0, output
    assert NO_MAP_270 in output


def test_a_file_both_refuse_exits_1_with_both_reasons(tmp_path: Path) -> None:
    code, output = _validate(tmp_path, "cut.837", write(a_claim_set())[:-40])
    assert code == 1, output
    assert "error: cut.837: " in output  # ours, naming where
    assert "pyx12: 3 errors in 837 (005010X222A1)" in output  # and theirs: trailers missing
    assert '  segment 3 (ST): Mandatory segment "Transaction Set Trailer" (SE=0001) missing' in output


def test_without_pyx12_validate_gives_our_checks_only(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, _ = _with_bad_place_of_service(_written(web.office).text)
    _without_pyx12(monkeypatch)

    response = web.client.post(
        "/api/x12/validate", files={"file": ("bad.837", text.encode())}, headers=web.billing
    )
    assert response.status_code == 200, response.text
    assert response.json()["pyx12"] is None

    code, output = _validate(tmp_path, "bad.837", text)
    assert code == 0, output
    assert "pyx12 not installed: structural checks only" in output


def test_the_page_checks_a_file_with_pyx12(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    text, position = _with_bad_place_of_service(_written(web.office).text)
    assert login(web.client, web.office.user.email).status_code == 303
    token = csrf_from(web.client.get("/x12").text)

    def check(name: str, data: str) -> tuple[int, str]:
        page = web.client.post("/x12/validate", data={"csrf_token": token}, files={"file": (name, data)})
        return page.status_code, page.text

    status, page = check("bad.837", text)
    assert status == 200, page
    assert "bad.837: our readers find it well formed" in page
    assert f"pyx12 checked {CLAIM_837}" in page
    assert f"segment {position} (CLM), CLM05-1: (AA) is not a valid code" in page

    status, page = check("ask.270", eligibility_270())
    assert status == 200, page
    assert f"{NO_MAP_270}." in page

    status, page = check("cut.837", text[:-40])
    assert status == 422
    assert "cut.837 cannot be read." in page

    _without_pyx12(monkeypatch)
    status, page = check("bad.837", text)
    assert status == 200, page
    assert "pyx12 not installed: structural checks only." in page
    assert "CLM05-1" not in page


def test_a_therapist_may_not_check_files_on_the_page(web: Web) -> None:
    assert login(web.client, web.therapist_email).status_code == 303
    token = csrf_from(web.client.get("/my-sessions").text)
    refused = web.client.post(
        "/x12/validate", data={"csrf_token": token}, files={"file": ("ask.270", eligibility_270())}
    )
    assert refused.status_code == 403
