"""A client's coverages: payer, member and group ids, subscriber, priority and dates, the prior
authorizations under each, the scanned insurance cards — and the history of every change.

Priority is primary, secondary or tertiary, and on any date a client has at most one coverage
of each priority in force: a new or changed coverage whose dates overlap another of the same
priority is refused, naming the other (end that one first). A coverage's dates may be open:
no start means "as far back as we bill", no end means "still in force".

History is appended, never edited: every create, update, end, card and authorization change
writes one :class:`CoverageChange` (action, ``{field: [before, after]}``, who, when) and an
audit row in the same transaction. A change that changes nothing writes nothing.

Cards are images or PDFs of the card's front and back. What a file *is* is read from its
first bytes (PNG, JPEG or PDF signatures), never from its name or the browser's word; at
most 5 MB. They are kept as stored files, like every file that comes in, and served back
only to people who may see the client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.charges import PROCEDURE
from revcycle.services.scoping import get_visible
from revcycle.services.stored_files import store_file

__all__ = [
    "CARD_SIDES",
    "MAX_CARD_BYTES",
    "PRIORITIES",
    "RELATIONSHIPS",
    "AuthorizationInput",
    "CardFile",
    "ClientCoverages",
    "CoverageView",
    "add_card",
    "client_coverages",
    "create_coverage",
    "end_coverage",
    "find_payer",
    "get_card",
    "save_authorization",
    "sniff_card",
    "update_coverage",
]

PRIORITIES = ("primary", "secondary", "tertiary")
RELATIONSHIPS = ("self", "spouse", "child", "other")
SEXES = ("F", "M", "U")
CARD_SIDES = ("front", "back")
MAX_CARD_BYTES = 5 * 1024 * 1024
# The first bytes of each kind of card file we keep, and the media type it is served as.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpeg", "image/jpeg"),
    (b"%PDF-", "pdf", "application/pdf"),
)
MEDIA_TYPES = {kind: media for _, kind, media in _SIGNATURES}
# The coverage fields a person may set, in the order history shows them.
FIELDS = (
    "payer_id",
    "member_id",
    "group_number",
    "priority",
    "relationship_to_subscriber",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_date_of_birth",
    "subscriber_sex",
    "effective_on",
    "ends_on",
    "copay_cents",
)
_AUTH_FIELDS = ("number", "visits_allowed", "visits_used", "starts_on", "ends_on", "procedure_codes")


@dataclass(frozen=True)
class AuthorizationInput:
    number: str
    visits_allowed: int
    starts_on: date
    ends_on: date
    visits_used: int | None = None  # None: unchanged (0 for a new one)
    procedure_codes: Sequence[str] = ()


@dataclass(frozen=True)
class CoverageView:
    coverage: m.Coverage
    payer_name: str
    authorizations: list[m.Authorization]
    cards: list[m.CoverageCard]
    history: list[m.CoverageChange]


@dataclass(frozen=True)
class ClientCoverages:
    client: m.Client
    coverages: list[CoverageView]
    user_names: dict[int, str]


@dataclass(frozen=True)
class CardFile:
    card: m.CoverageCard
    filename: str
    media_type: str
    content: bytes


# --- reading ---------------------------------------------------------------------------------------


def client_coverages(session: Session, *, actor: Actor, client_id: int) -> ClientCoverages:
    """The client's coverages (newest first within each priority) with everything about them."""
    client = get_visible(session, m.Client, client_id, actor, Permission.VIEW_CLIENTS)
    rows = list(
        session.execute(
            select(m.Coverage, m.Payer.name)
            .join(m.Payer, m.Payer.id == m.Coverage.payer_id)
            .where(m.Coverage.client_id == client.id)
            .order_by(m.Coverage.priority, m.Coverage.effective_on.desc(), m.Coverage.id.desc())
        )
    )
    ids = [coverage.id for coverage, _ in rows]
    auths = _grouped(
        session.scalars(
            select(m.Authorization)
            .where(m.Authorization.coverage_id.in_(ids))
            .order_by(m.Authorization.starts_on.desc(), m.Authorization.id)
        )
    )
    cards = _grouped(
        session.scalars(
            select(m.CoverageCard).where(m.CoverageCard.coverage_id.in_(ids)).order_by(m.CoverageCard.id)
        )
    )
    history = _grouped(
        session.scalars(
            select(m.CoverageChange)
            .where(m.CoverageChange.coverage_id.in_(ids))
            .order_by(m.CoverageChange.created_at.desc(), m.CoverageChange.id.desc())
        )
    )
    order = {p: n for n, p in enumerate(PRIORITIES)}
    views = sorted(
        (
            CoverageView(
                coverage,
                name,
                auths.get(coverage.id, []),
                cards.get(coverage.id, []),
                history.get(coverage.id, []),
            )
            for coverage, name in rows
        ),
        key=lambda view: order.get(view.coverage.priority, len(order)),
    )
    user_ids = {change.user_id for view in views for change in view.history if change.user_id}
    names = {
        user.id: user.full_name or user.email
        for user in session.scalars(select(m.User).where(m.User.id.in_(user_ids)))
    }
    return ClientCoverages(client, views, names)


def _grouped(rows: Any) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.coverage_id, []).append(row)
    return found


def _load_client(session: Session, actor: Actor, client_id: int) -> m.Client:
    client = session.get(m.Client, client_id)
    if client is None or not (actor.is_system or client.practice_id in actor.practice_ids):
        raise NotFound(f"client {client_id} not found")
    actor.require(client.practice_id, Permission.UPDATE_INSURANCE)
    return client


def _load_coverage(session: Session, actor: Actor, coverage_id: int) -> m.Coverage:
    coverage = session.get(m.Coverage, coverage_id)
    if coverage is None or not (actor.is_system or coverage.practice_id in actor.practice_ids):
        raise NotFound(f"coverage {coverage_id} not found")
    actor.require(coverage.practice_id, Permission.UPDATE_INSURANCE)
    return coverage


def find_payer(
    session: Session, *, practice_id: int, payer_id: int | None, payer_edi_id: str = ""
) -> m.Payer:
    """The payer by catalog id, or by the EDI payer id printed on the card (one payer with that
    id, or the one the practice has settings for)."""
    if payer_id is not None:
        payer = session.get(m.Payer, payer_id)
        if payer is None:
            raise InvalidInput(f"payer_id: no payer {payer_id}")
        return payer
    edi = payer_edi_id.strip()
    if not edi:
        raise InvalidInput("payer_id: name the payer (payer_id, or payer_edi_id from the card)")
    payers = list(session.scalars(select(m.Payer).where(m.Payer.edi_payer_id == edi).order_by(m.Payer.id)))
    if len(payers) > 1:
        settings = set(
            session.scalars(
                select(m.PracticePayer.payer_id).where(
                    m.PracticePayer.practice_id == practice_id,
                    m.PracticePayer.payer_id.in_([p.id for p in payers]),
                )
            )
        )
        payers = [p for p in payers if p.id in settings]
    if len(payers) != 1:
        found = "no payer" if not payers else f"{len(payers)} payers"
        raise InvalidInput(f"payer_edi_id: {found} with EDI payer id {edi!r}; give payer_id")
    return payers[0]


# --- checking ---------------------------------------------------------------------------------------


def _checked_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Coverage fields normalised, or InvalidInput naming the field."""
    out = dict(values)
    text_limits = {
        "member_id": 40,
        "group_number": 40,
        "subscriber_first_name": 100,
        "subscriber_last_name": 100,
    }
    for name, limit in text_limits.items():
        if name in out:
            out[name] = (out[name] or "").strip()
            if len(out[name]) > limit:
                raise InvalidInput(f"{name}: at most {limit} characters")
    if "member_id" in out and not out["member_id"]:
        raise InvalidInput("member_id: enter the member id from the card")
    _one_of(out, "priority", PRIORITIES)
    _one_of(out, "relationship_to_subscriber", RELATIONSHIPS, field="relationship")
    if "subscriber_sex" in out:
        out["subscriber_sex"] = out["subscriber_sex"] or "U"
        _one_of(out, "subscriber_sex", SEXES, field="subscriber sex")
    if "copay_cents" in out and (out["copay_cents"] is None or out["copay_cents"] < 0):
        raise InvalidInput("copay: must be $0.00 or more")
    return out


def _one_of(values: dict[str, Any], name: str, allowed: Sequence[str], *, field: str = "") -> None:
    if name in values:
        word = (values[name] or "").strip()
        values[name] = word.upper() if name == "subscriber_sex" else word.lower()
        if values[name] not in allowed:
            raise InvalidInput(f"{field or name}: {word!r} is not one of {', '.join(allowed)}")


def _check_whole(coverage: m.Coverage) -> None:
    """Rules across fields, on the coverage as it would be stored."""
    if coverage.effective_on and coverage.ends_on and coverage.ends_on < coverage.effective_on:
        raise InvalidInput(
            f"ends_on: {coverage.ends_on} is before the coverage starts ({coverage.effective_on})"
        )
    if coverage.relationship_to_subscriber != "self" and not (
        coverage.subscriber_first_name and coverage.subscriber_last_name
    ):
        raise InvalidInput(
            "subscriber: the client is the subscriber's "
            f"{coverage.relationship_to_subscriber}; enter the subscriber's first and last name"
        )


def _overlaps(a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None) -> bool:
    return (b_to is None or a_from is None or a_from <= b_to) and (
        a_to is None or b_from is None or b_from <= a_to
    )


def _refuse_overlap(session: Session, coverage: m.Coverage) -> None:
    others = session.execute(
        select(m.Coverage, m.Payer.name)
        .join(m.Payer, m.Payer.id == m.Coverage.payer_id)
        .where(
            m.Coverage.client_id == coverage.client_id,
            m.Coverage.priority == coverage.priority,
            m.Coverage.id != (coverage.id or 0),
        )
        .order_by(m.Coverage.id)
    )
    for other, payer_name in others:
        if _overlaps(coverage.effective_on, coverage.ends_on, other.effective_on, other.ends_on):
            raise Conflict(
                f"priority: {payer_name} coverage {other.id} (member {other.member_id}) is already "
                f"{other.priority} from {other.effective_on or 'the start'} "
                f"to {other.ends_on or 'open end'}; end it first or choose another priority"
            )


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _record(
    session: Session,
    actor: Actor,
    coverage: m.Coverage,
    action: str,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    authorization_id: int | None = None,
) -> m.CoverageChange:
    row = m.CoverageChange(
        practice_id=coverage.practice_id,
        coverage_id=coverage.id,
        authorization_id=authorization_id,
        action=action,
        changes={name: [_shown(before), _shown(after)] for name, (before, after) in changes.items()},
        user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=coverage.practice_id,
        action="create" if action in {"created", "card_added", "authorization_added"} else "update",
        entity="authorization" if authorization_id else "coverage",
        entity_id=authorization_id or coverage.id,
        client_ids=[coverage.client_id],
        before={name: _shown(before) for name, (before, _) in changes.items()},
        after={name: _shown(after) for name, (_, after) in changes.items()},
        reason=f"coverage {coverage.id} {action.replace('_', ' ')}",
    )
    return row


# --- coverages ----------------------------------------------------------------------------------------


def create_coverage(
    session: Session, *, actor: Actor, client_id: int, values: Mapping[str, Any]
) -> m.Coverage:
    """A new coverage for the client (``values``: the :data:`FIELDS`; the payer — ``payer_id``
    or ``payer_edi_id`` — and the member id needed)."""
    client = _load_client(session, actor, client_id)
    given = dict(values)
    payer = find_payer(
        session,
        practice_id=client.practice_id,
        payer_id=given.pop("payer_id", None),
        payer_edi_id=given.pop("payer_edi_id", "") or "",
    )
    checked = _checked_values(
        {"priority": "primary", "relationship_to_subscriber": "self", **given, "payer_id": payer.id}
    )
    if "member_id" not in checked:
        raise InvalidInput("member_id: enter the member id from the card")
    unknown = set(checked) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]}: not a coverage field")
    coverage = m.Coverage(practice_id=client.practice_id, client_id=client.id, **checked)
    if coverage.relationship_to_subscriber == "self":
        coverage.subscriber_first_name = coverage.subscriber_first_name or client.first_name
        coverage.subscriber_last_name = coverage.subscriber_last_name or client.last_name
        coverage.subscriber_date_of_birth = coverage.subscriber_date_of_birth or client.date_of_birth
        coverage.subscriber_sex = (
            coverage.subscriber_sex if coverage.subscriber_sex in {"F", "M"} else client.sex
        )
    _check_whole(coverage)
    _refuse_overlap(session, coverage)
    session.add(coverage)
    session.flush()
    _record(session, actor, coverage, "created", {name: (None, getattr(coverage, name)) for name in FIELDS})
    return coverage


def update_coverage(
    session: Session, *, actor: Actor, coverage_id: int, values: Mapping[str, Any]
) -> m.Coverage:
    """Change some fields of a coverage; the history keeps each field's before and after."""
    coverage = _load_coverage(session, actor, coverage_id)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]}: not a coverage field")
    checked = _checked_values(values)
    changes = {
        name: (getattr(coverage, name), value)
        for name, value in checked.items()
        if getattr(coverage, name) != value
    }
    if not changes:
        return coverage
    with session.no_autoflush:  # checked before anything is written
        for name, (_, value) in changes.items():
            setattr(coverage, name, value)
        _check_whole(coverage)
        _refuse_overlap(session, coverage)
    session.flush()
    _record(session, actor, coverage, "updated", changes)
    return coverage


def end_coverage(session: Session, *, actor: Actor, coverage_id: int, ends_on: date) -> m.Coverage:
    """The coverage ends on ``ends_on`` (its last covered day)."""
    coverage = _load_coverage(session, actor, coverage_id)
    if coverage.ends_on == ends_on:
        return coverage
    if coverage.effective_on and ends_on < coverage.effective_on:
        raise InvalidInput(f"ends_on: {ends_on} is before the coverage starts ({coverage.effective_on})")
    before = coverage.ends_on
    coverage.ends_on = ends_on
    session.flush()
    _record(session, actor, coverage, "ended", {"ends_on": (before, ends_on)})
    return coverage


# --- authorizations ---------------------------------------------------------------------------------


def _auth_values(entry: AuthorizationInput) -> dict[str, Any]:
    number = entry.number.strip()
    if not number or len(number) > 50:
        raise InvalidInput("number: enter the authorization number (at most 50 characters)")
    if entry.visits_allowed < 1:
        raise InvalidInput(f"visits_allowed: must be at least 1, got {entry.visits_allowed}")
    if entry.ends_on < entry.starts_on:
        raise InvalidInput(f"ends_on: {entry.ends_on} is before the authorization starts ({entry.starts_on})")
    codes = [code.strip().upper() for code in entry.procedure_codes if code and code.strip()]
    bad = [code for code in codes if not PROCEDURE.fullmatch(code)]
    if bad:
        raise InvalidInput(f"procedure_codes: {bad[0]!r} is not a CPT or HCPCS code")
    values: dict[str, Any] = {
        "number": number,
        "visits_allowed": entry.visits_allowed,
        "starts_on": entry.starts_on,
        "ends_on": entry.ends_on,
        "procedure_codes": list(dict.fromkeys(codes)),
    }
    if entry.visits_used is not None:
        values["visits_used"] = entry.visits_used
    return values


def _check_visits(allowed: int, used: int) -> None:
    if used < 0:
        raise InvalidInput(f"visits_used: cannot be negative, got {used}")
    if used > allowed:
        raise InvalidInput(f"visits_used: {used} is more than the {allowed} visits allowed")


def save_authorization(
    session: Session, *, actor: Actor, coverage_id: int, entry: AuthorizationInput
) -> m.Authorization:
    """Add an authorization to the coverage, or update the one with the same number."""
    coverage = _load_coverage(session, actor, coverage_id)
    values = _auth_values(entry)
    existing = session.scalars(
        select(m.Authorization).where(
            m.Authorization.coverage_id == coverage.id, m.Authorization.number == values["number"]
        )
    ).first()
    if existing is None:
        _check_visits(values["visits_allowed"], values.get("visits_used", 0))
        row = m.Authorization(
            practice_id=coverage.practice_id,
            client_id=coverage.client_id,
            coverage_id=coverage.id,
            **{"visits_used": 0, **values},
        )
        session.add(row)
        session.flush()
        changes = {name: (None, getattr(row, name)) for name in _AUTH_FIELDS}
        _record(session, actor, coverage, "authorization_added", changes, authorization_id=row.id)
        return row
    _check_visits(values["visits_allowed"], values.get("visits_used", existing.visits_used))
    changes = {
        name: (getattr(existing, name), value)
        for name, value in values.items()
        if getattr(existing, name) != value
    }
    if changes:
        for name, (_, value) in changes.items():
            setattr(existing, name, value)
        session.flush()
        _record(session, actor, coverage, "authorization_updated", changes, authorization_id=existing.id)
    return existing


# --- cards ---------------------------------------------------------------------------------------------


def sniff_card(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``pdf`` by the file's first bytes; None for anything else."""
    return next((kind for magic, kind, _ in _SIGNATURES if data.startswith(magic)), None)


def add_card(
    session: Session, *, actor: Actor, coverage_id: int, side: str, filename: str, data: bytes
) -> m.CoverageCard:
    """Keep a scan of the card's front or back (PNG, JPEG or PDF, at most 5 MB)."""
    coverage = _load_coverage(session, actor, coverage_id)
    side = side.strip().lower()
    if side not in CARD_SIDES:
        raise InvalidInput(f"side: {side!r} is not one of front, back")
    name = (filename or "card").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255] or "card"
    if not data:
        raise InvalidInput(f"file: {name} is empty")
    if len(data) > MAX_CARD_BYTES:
        raise InvalidInput(f"file: {name} is larger than {MAX_CARD_BYTES // (1024 * 1024)} MB")
    kind = sniff_card(data)
    if kind is None:
        raise InvalidInput(
            f"file: {name} is not a PNG, JPEG or PDF file (judged by its content, not its name)"
        )
    stored = store_file(
        session,
        actor=actor,
        practice_id=coverage.practice_id,
        kind=kind,
        direction="in",
        filename=name,
        content=data,
    )
    card = m.CoverageCard(
        practice_id=coverage.practice_id,
        coverage_id=coverage.id,
        side=side,
        stored_file_id=stored.id,
        uploaded_by_user_id=actor.user_id,
    )
    session.add(card)
    session.flush()
    _record(session, actor, coverage, "card_added", {"side": (None, side), "file": (None, name)})
    return card


def get_card(session: Session, *, actor: Actor, coverage_id: int, card_id: int) -> CardFile:
    """A card's file, for someone who may see the client (the read is audited)."""
    card = session.get(m.CoverageCard, card_id)
    if card is None or card.coverage_id != coverage_id:
        raise NotFound(f"card {card_id} not found")
    coverage = session.get_one(m.Coverage, card.coverage_id)
    get_visible(session, m.Client, coverage.client_id, actor, Permission.VIEW_CLIENTS)
    stored = session.get_one(m.StoredFile, card.stored_file_id)
    audit.record_read(
        session,
        actor=actor,
        practice_id=coverage.practice_id,
        entity="coverage_card",
        client_ids=[coverage.client_id],
        reason=f"card {card.id} ({card.side})",
    )
    return CardFile(
        card, stored.filename, MEDIA_TYPES.get(stored.kind, "application/octet-stream"), stored.content
    )
