"""Code sets an admin loads: an NCCI PTP table and a newer ICD-10-CM release, all or nothing,
used by the scrub; the API, the pages and the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, PermissionDenied
from revcycle.services import codesets
from revcycle.services.actor import Actor
from revcycle.services.claims_pipeline import building, scrubbing
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.claims.conftest import TODAY, Office
from tests.integration.conftest import csrf_from, login
from tests.integration.imports.conftest import installation
from tests.integration.world import make_login_user, password_hash

__all__ = ["installation"]

DATA = Path(__file__).resolve().parents[2] / "data"
NCCI_FILE = DATA / "ncci" / "ptp_practitioner_synthetic.txt"
ICD10_FILE = DATA / "codesets" / "icd10cm_order_2027.txt"
FY2027 = (date(2026, 10, 1), date(2027, 9, 30))


def _admin(office: Office) -> Actor:
    return f.actor_for(office.db, f.make_user(office.db, office.practice, Role.ADMIN))


def _load_ncci(
    office: Office, data: bytes | None = None, name: str = "2026Q1 practitioner"
) -> m.CodeSetRelease:
    return codesets.load_ncci_table(
        office.db,
        actor=_admin(office),
        practice_id=office.practice.id,
        stream=io.BytesIO(data if data is not None else NCCI_FILE.read_bytes()),
        filename="ptp.txt",
        name=name,
        effective_on=date(2026, 1, 1),
        ends_on=date(2026, 3, 31),
    )


def _load_icd10(office: Office, data: bytes | None = None) -> m.CodeSetRelease:
    return codesets.load_icd10_release(
        office.db,
        actor=_admin(office),
        practice_id=office.practice.id,
        data=data if data is not None else ICD10_FILE.read_bytes(),
        filename="icd10cm_order_2027.txt",
        name="ICD-10-CM FY2027 (test)",
        effective_on=FY2027[0],
        ends_on=FY2027[1],
    )


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _claim(office: Office, *codes: str, day: datetime, today: date = TODAY) -> building.BuiltClaim:
    service = f.make_session(
        office.db, office.practice, office.client, office.provider, starts_at=day, code=codes[0]
    )
    for code in codes[1:]:
        office.db.add(
            m.Charge(
                practice_id=office.practice.id,
                session_id=service.id,
                procedure_code=code,
                fee_cents=9000,
                diagnosis_codes=["F41.1"],
            )
        )
    office.db.flush()
    building.mark_sessions_ready(office.db, actor=office.actor, session_ids=[service.id])
    result = building.build_claims(
        office.db, actor=office.actor, practice_id=office.practice.id, session_ids=[service.id], today=today
    )
    [built] = result.claims
    return built


def _codes(state: scrubbing.ScrubState) -> list[str]:
    return [p.code for p in state.problems]


# --- loading ------------------------------------------------------------------------------------


def test_an_ncci_table_loads_whole_and_is_listed(office: Office) -> None:
    release = _load_ncci(office)

    assert (release.kind, release.row_count) == ("ncci_ptp", 8)
    assert _count(office.db, m.NcciEdit) == 8
    edit = office.db.scalars(
        select(m.NcciEdit).where(m.NcciEdit.column2_code == "90832", m.NcciEdit.column1_code == "90846")
    ).one()
    assert (edit.effective_on, edit.deleted_on, edit.modifier_indicator) == (
        date(2014, 1, 1),
        date(2015, 12, 31),
        "1",
    )
    [listed] = codesets.list_releases(office.db, actor=_admin(office), practice_id=office.practice.id)
    assert (listed.name, listed.row_count, listed.ends_on) == ("2026Q1 practitioner", 8, date(2026, 3, 31))
    audit = office.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "code_set_release")).one()
    assert audit.after["rows"] == 8


def test_a_wrong_line_anywhere_writes_nothing(office: Office) -> None:
    data = NCCI_FILE.read_bytes() + b"90791\t90853\t\t20130101\t*\t5\tx\r\n"

    with pytest.raises(InvalidInput, match=r"ptp\.txt line 11, column 6 \(Modifier\)") as caught:
        _load_ncci(office, data)

    assert caught.value.problems
    assert _count(office.db, m.NcciEdit) == 0
    assert _count(office.db, m.CodeSetRelease) == 0


def test_a_release_name_is_loaded_once(office: Office) -> None:
    _load_ncci(office)
    with pytest.raises(Conflict, match="already loaded"):
        _load_ncci(office)
    assert _count(office.db, m.NcciEdit) == 8


def test_loading_needs_manage_practice(office: Office) -> None:
    with pytest.raises(PermissionDenied):
        codesets.load_ncci_table(
            office.db,
            actor=office.actor,  # billing
            practice_id=office.practice.id,
            stream=io.BytesIO(NCCI_FILE.read_bytes()),
            filename="ptp.txt",
            name="x",
            effective_on=date(2026, 1, 1),
        )


def test_an_icd10_file_with_a_wrong_line_is_refused_naming_line_and_column(office: Office) -> None:
    bad = ICD10_FILE.read_bytes().replace(b"00004 F411    1", b"00004 F411    x")

    with pytest.raises(InvalidInput, match=r"icd10cm_order_2027\.txt line 4, column 15"):
        _load_icd10(office, bad)
    assert _count(office.db, m.Icd10ReleaseCode) == 0


# --- scrubbing with them -----------------------------------------------------------------------


def test_a_ptp_pair_on_a_claim_is_refused_once_a_table_is_loaded(office: Office) -> None:
    before = _claim(office, "90792", "90791", day=datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert "scrub.ncci_ptp.no_table" in _codes(before.scrub)
    assert before.claim.status == "ready", before.scrub.problems  # a note does not block

    _load_ncci(office)
    paired = _claim(office, "90792", "90791", day=datetime(2026, 3, 3, 15, tzinfo=UTC))

    [error] = paired.scrub.errors
    assert (error.code, error.where) == ("scrub.ncci_ptp.never_together", "line 2, SV1 procedure")
    assert "2026Q1 practitioner" in error.message
    assert paired.claim.status == "draft"


def test_an_indicator_1_pair_passes_with_a_distinct_service_modifier(office: Office) -> None:
    _load_ncci(office)
    built = _claim(office, "90791", "90837", day=datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert [p.code for p in built.scrub.errors] == ["scrub.ncci_ptp.modifier_needed"]

    built.claim.lines[1].modifiers = "XU"
    state = building.mark_claim_ready(office.db, actor=office.actor, claim_id=built.claim.id, today=TODAY)

    assert state.errors == ()
    assert built.claim.status == "ready"


def test_loading_a_newer_icd10_release_ends_the_no_release_warning(office: Office) -> None:
    october = datetime(2026, 10, 5, 15, tzinfo=UTC)
    later = date(2026, 10, 20)
    before = _claim(office, "90837", day=october, today=later)
    assert "scrub.icd10_valid.no_release" in [p.code for p in before.scrub.open_warnings]

    _load_icd10(office)
    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=before.claim.id, today=later)

    assert "scrub.icd10_valid.no_release" not in _codes(state)
    assert not [p for p in state.problems if p.code.startswith("scrub.icd10_valid")]
    # The loaded release is the one checking: a code it does not have is now an error.
    before.claim.diagnosis_codes = ["F41.9"]
    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=before.claim.id, today=later)
    [error] = [p for p in state.errors if p.code.startswith("scrub.icd10_valid")]
    assert error.code == "scrub.icd10_valid.unknown"
    assert "ICD-10-CM FY2027 (test)" in error.message


def test_a_loaded_release_wins_over_a_shipped_one_for_its_dates(office: Office) -> None:
    # A synthetic release said to cover FY2026 knows F41.1 but not F43.12 (which FY2026 has).
    codesets.load_icd10_release(
        office.db,
        actor=_admin(office),
        practice_id=office.practice.id,
        data=ICD10_FILE.read_bytes(),
        filename="icd10cm_order_2026.txt",
        name="ICD-10-CM FY2026 (reloaded)",
        effective_on=date(2025, 10, 1),
        ends_on=date(2026, 9, 30),
    )
    built = _claim(office, "90837", day=datetime(2026, 3, 2, 15, tzinfo=UTC))
    built.claim.diagnosis_codes = ["F43.12"]

    state = scrubbing.scrub_claim(office.db, actor=office.actor, claim_id=built.claim.id, today=TODAY)

    [error] = [p for p in state.errors if p.code.startswith("scrub.icd10_valid")]
    assert "ICD-10-CM FY2026 (reloaded)" in error.message


def test_a_portal_payer_needs_no_edi_payer_id(office: Office) -> None:
    office.payer.edi_payer_id = ""
    office.settings.billing_route = "clearinghouse"
    electronic = _claim(office, "90837", day=datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert "scrub.required_fields.missing" in [p.code for p in electronic.scrub.errors]

    office.settings.billing_route = "portal"
    portal = _claim(office, "90837", day=datetime(2026, 3, 3, 15, tzinfo=UTC))
    assert portal.scrub.errors == ()


# --- API -------------------------------------------------------------------------------------------


@pytest.fixture
def admin_headers(office: Office, client: TestClient, db: Session) -> dict[str, str]:
    admin = make_login_user(db, office.practice, Role.ADMIN, name="director")
    return bearer(client, admin.email)


def test_the_api_loads_lists_and_refuses(
    office: Office, client: TestClient, admin_headers: dict[str, str]
) -> None:
    form = {"name": "2026Q1 practitioner", "effective_on": "2026-01-01", "ends_on": "2026-03-31"}
    loaded = client.post(
        "/api/code-sets/ncci",
        headers=admin_headers,
        data=form,
        files={"file": ("ptp.txt", NCCI_FILE.read_bytes(), "text/plain")},
    )
    assert loaded.status_code == 200, loaded.text
    assert (loaded.json()["kind"], loaded.json()["rows"]) == ("ncci_ptp", 8)

    again = client.post(
        "/api/code-sets/ncci",
        headers=admin_headers,
        data=form,
        files={"file": ("ptp.txt", NCCI_FILE.read_bytes())},
    )
    assert again.status_code == 409

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "icd10cm_order_2027.txt", ICD10_FILE.read_bytes().replace(b"00002 F329 ", b"00002 F3.9 ")
        )
    bad = client.post(
        "/api/code-sets/icd10cm",
        headers=admin_headers,
        data={"name": "FY2027", "effective_on": "2026-10-01", "ends_on": "2027-09-30"},
        files={"file": ("icd10cm_2027.zip", buffer.getvalue(), "application/zip")},
    )
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid"
    assert "icd10cm_order_2027.txt line 2, column 7" in bad.json()["detail"]

    good = client.post(
        "/api/code-sets/icd10cm",
        headers=admin_headers,
        data={"name": "FY2027", "effective_on": "2026-10-01", "ends_on": "2027-09-30"},
        files={"file": ("icd10cm_order_2027.txt", ICD10_FILE.read_bytes())},
    )
    assert good.status_code == 200, good.text

    listing = client.get("/api/code-sets", headers=admin_headers).json()
    assert listing["total"] == 2
    assert {(r["kind"], r["name"], r["rows"]) for r in listing["items"]} == {
        ("ncci_ptp", "2026Q1 practitioner", 8),
        ("icd10cm", "FY2027", 9),
    }
    assert all(r["loaded_by"] for r in listing["items"])

    office.user.password_hash = password_hash()
    office.db.flush()
    billing = bearer(client, office.user.email)
    assert client.get("/api/code-sets", headers=billing).status_code == 403

    wrong_dates = client.post(
        "/api/code-sets/ncci",
        headers=admin_headers,
        data={"name": "later", "effective_on": "2026-04-01", "ends_on": "2026-03-31"},
        files={"file": ("ptp.txt", NCCI_FILE.read_bytes())},
    )
    assert wrong_dates.status_code == 422
    assert "ends_on" in wrong_dates.json()["detail"]


def test_the_report_api_answers_json_and_csv(
    office: Office, client: TestClient, admin_headers: dict[str, str]
) -> None:
    supervisor = f.make_provider(office.db, office.practice)
    office.provider.supervising_provider_id = supervisor.id
    office.db.add(
        m.ProviderEnrollment(
            practice_id=office.practice.id,
            provider_id=supervisor.id,
            payer_id=office.payer.id,
            effective_on=date(2025, 1, 1),
        )
    )
    office.settings.supervised_billing = "supervisor"
    built = _claim(office, "90837", day=datetime(2026, 3, 2, 15, tzinfo=UTC))
    assert built.claim.billing_basis == "supervisor"

    body = client.get("/api/reports/supervised-billing?from=2026-03-01&to=2026-03-31", headers=admin_headers)
    assert body.status_code == 200, body.text
    report = body.json()
    [row] = report["items"]
    assert (row["claim_number"], row["billing_basis"], row["compliant"]) == (
        built.claim.number,
        "supervisor",
        True,
    )
    assert report["totals"]["claims"] == 1
    assert report["totals"]["billed_cents"] == built.claim.billed_cents
    assert report["rules"][0]["id"] == "allowed"

    as_csv = client.get(
        "/api/reports/supervised-billing?from=2026-03-01&to=2026-03-31&format=csv", headers=admin_headers
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert built.claim.number in as_csv.text
    assert "1 claims" in as_csv.text

    backwards = client.get(
        "/api/reports/supervised-billing?from=2026-03-31&to=2026-03-01", headers=admin_headers
    )
    assert backwards.status_code == 422


# --- pages ---------------------------------------------------------------------------------------


def test_the_code_sets_page_lists_and_loads(office: Office, client: TestClient, db: Session) -> None:
    admin = make_login_user(db, office.practice, Role.ADMIN, name="director")
    login(client, admin.email)
    page = client.get("/settings/code-sets")
    assert page.status_code == 200, page.text
    assert "No code sets loaded yet." in page.text
    token = csrf_from(page.text)

    bad = client.post(
        "/settings/code-sets/ncci",
        data={"csrf_token": token, "name": "Q1", "effective_on": "2026-01-01"},
        files={"file": ("ptp.txt", b"Column 1\tColumn 2\n90791\t90832\t\tsoon\t*\t0\tx\n")},
    )
    assert bad.status_code == 422
    assert "ptp.txt line 2, column 4 (Effective Date)" in bad.text

    loaded = client.post(
        "/settings/code-sets/ncci",
        data={"csrf_token": token, "name": "Q1", "effective_on": "2026-01-01"},
        files={"file": ("ptp.txt", NCCI_FILE.read_bytes())},
    )
    assert loaded.status_code == 303
    listed = client.get(loaded.headers["location"])
    assert "NCCI PTP" in listed.text
    assert "Q1" in listed.text


def test_the_pages_need_their_permissions(office: Office, client: TestClient) -> None:
    office.user.password_hash = password_hash()
    office.db.flush()
    login(client, office.user.email)  # billing: reports yes, code sets no
    assert client.get("/settings/code-sets").status_code == 403
    report = client.get("/reports/supervised-billing?from=2026-03-01&to=2026-03-31")
    assert report.status_code == 200
    assert "No claim was billed under a supervisor" in report.text
    csv_page = client.get("/reports/supervised-billing?from=2026-03-01&to=2026-03-31&format=csv")
    assert csv_page.text.startswith("claim,date of service")


# --- CLI -----------------------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def test_the_cli_loads_and_lists(installation: Engine, tmp_path: Path) -> None:
    code, out = _run(
        "codesets", "load-ncci", str(NCCI_FILE), "--name", "2026Q1", "--effective-on", "2026-01-01", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["rows"] == 8

    code, out = _run(
        "codesets",
        "load-icd10",
        str(ICD10_FILE),
        "--name",
        "FY2027",
        "--effective-on",
        "2026-10-01",
        "--ends-on",
        "2027-09-30",
    )
    assert code == 0, out
    assert "9 rows" in out

    bad = tmp_path / "ptp.txt"
    bad.write_bytes(NCCI_FILE.read_bytes() + b"90791\tnope\t\t20130101\t*\t0\tx\n")
    code, out = _run("codesets", "load-ncci", str(bad), "--name", "broken", "--effective-on", "2026-01-01")
    assert code == 1
    assert "ptp.txt line 11, column 2 (Column 2)" in out

    code, out = _run("codesets", "list", "--json")
    assert code == 0, out
    assert sorted(r["name"] for r in json.loads(out)["releases"]) == ["2026Q1", "FY2027"]
    with Session(installation) as db:
        assert db.scalar(select(func.count()).select_from(m.NcciEdit)) == 8
