"""The practice's clients and clinicians and the payer catalog, by the names exports use.

Exports name people and payers in text, spelled many ways. A :class:`Directory` loads the
matching keys once per batch (``domain.names``: clients and clinicians by person key, payers
first by EDI payer id, then by alias or name key) so that matching a 100,000-row file is
dictionary look-ups, and creates the unknown ones in bulk at commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from revcycle.adapters.csv import PayerRef
from revcycle.db.models import Client, Payer, PayerAlias, Provider
from revcycle.domain.names import payer_key, person_key

__all__ = ["Directory", "PayerMatch", "name_key", "split_name"]

PLACEHOLDER_NPI_PREFIX = "X"  # never a real NPI (digits only): "add the NPI" is flagged


# Exports repeat the same few thousand names: key each spelling once.
name_key = lru_cache(maxsize=1 << 16)(person_key)


def split_name(name: str) -> tuple[str, str]:
    """``"Lee, Chris"`` -> (Chris, Lee); ``"Mary Ann Smith"`` -> (Mary Ann, Smith)."""
    text = " ".join(name.split())
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip()[:100], last.strip()[:100]
    first, _, last = text.rpartition(" ")
    return first[:100], last[:100]


def _trailing_group(name: str) -> tuple[str, str]:
    """``"Oscar Health (OSCAR)"`` -> (``"Oscar Health"``, ``"OSCAR"``); no group: (name, "")."""
    text = name.strip()
    if not text.endswith(")") or "(" not in text:
        return text, ""
    bare, _, group = text[:-1].rpartition("(")
    group = group.strip()
    if not bare.strip() or not group.isalnum() or not 3 <= len(group) <= 10:
        return text, ""
    return bare.strip(), group


@dataclass(frozen=True)
class PayerMatch:
    """How a payer reference matched: the payer (None: unknown) and whether it is a new alias."""

    payer_id: int | None
    new_alias: bool = False


@dataclass
class Directory:
    practice_id: int
    clients: dict[str, int] = field(default_factory=dict)
    providers: dict[str, int] = field(default_factory=dict)
    payers_by_edi: dict[str, int] = field(default_factory=dict)
    payers_by_key: dict[str, int] = field(default_factory=dict)
    aliases: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, practice_id: int) -> Directory:
        found = cls(practice_id)
        rows = session.execute(
            select(Client.id, Client.name_key, Client.merged_into_id)
            .where(Client.practice_id == practice_id)
            .order_by(Client.id)
        )
        for client_id, key, merged_into in rows:
            if merged_into is None:
                found.clients.setdefault(key, client_id)
        for client_id, key, merged_into in session.execute(
            select(Client.id, Client.name_key, Client.merged_into_id).where(
                Client.practice_id == practice_id, Client.merged_into_id.is_not(None)
            )
        ):
            found.clients.setdefault(key, merged_into or client_id)
        for provider_id, key in session.execute(
            select(Provider.id, Provider.name_key)
            .where(Provider.practice_id == practice_id)
            .order_by(Provider.id)
        ):
            found.providers.setdefault(key, provider_id)
        for payer_id, name, edi in session.execute(
            select(Payer.id, Payer.name, Payer.edi_payer_id).order_by(Payer.id)
        ):
            if edi:
                found.payers_by_edi.setdefault(edi.upper(), payer_id)
            found.payers_by_key.setdefault(payer_key(name), payer_id)
        for payer_id, normalized in session.execute(select(PayerAlias.payer_id, PayerAlias.normalized)):
            found.payers_by_key[normalized] = payer_id
            found.aliases.add(normalized)
        return found

    # --- matching ----------------------------------------------------------------------

    def client(self, name: str) -> int | None:
        return self.clients.get(name_key(name))

    def provider(self, name: str) -> int | None:
        return self.providers.get(name_key(name))

    def payer(self, ref: PayerRef) -> PayerMatch:
        """By EDI payer id first (another name for the same id is a new alias), then by name."""
        key = payer_key(ref.name)
        if ref.payer_id:
            by_id = self.payers_by_edi.get(ref.payer_id.upper())
            if by_id is not None:
                known_name = self.payers_by_key.get(key) == by_id
                return PayerMatch(by_id, new_alias=not known_name and key not in self.aliases)
        by_name = self.payers_by_key.get(key)
        if by_name is None and not ref.payer_id:
            # "Oscar Health (OSCAR)": letters alone are read as a plan type ("Aetna (PPO)"),
            # so a trailing group is an id only when the catalog knows a payer by it.
            bare, group = _trailing_group(ref.name)
            by_id = self.payers_by_edi.get(group.upper()) if group else None
            if by_id is not None:
                bare_key = payer_key(bare)
                known_name = self.payers_by_key.get(bare_key) == by_id
                return PayerMatch(by_id, new_alias=not known_name and key not in self.aliases)
        return PayerMatch(by_name)

    # --- creating (commit) ---------------------------------------------------------------

    def ensure_clients(self, session: Session, names: Iterable[str]) -> None:
        rows = []
        for name in names:
            key = name_key(name)
            if key and key not in self.clients:
                first, last = split_name(name)
                self.clients[key] = -1
                rows.append(
                    {"practice_id": self.practice_id, "first_name": first, "last_name": last, "name_key": key}
                )
        if rows:
            stmt = insert(Client).returning(Client.id, Client.name_key, sort_by_parameter_order=True)
            for client_id, key in session.execute(stmt, rows):
                self.clients[key] = client_id

    def ensure_providers(self, session: Session, names: Iterable[str]) -> None:
        rows = []
        serial = self._next_placeholder(session)
        for name in names:
            key = name_key(name)
            if key and key not in self.providers:
                first, last = split_name(name)
                self.providers[key] = -1
                rows.append(
                    {
                        "practice_id": self.practice_id,
                        "first_name": first,
                        "last_name": last,
                        "name_key": key,
                        "npi": f"{PLACEHOLDER_NPI_PREFIX}{serial:09d}",
                    }
                )
                serial += 1
        if rows:
            stmt = insert(Provider).returning(Provider.id, Provider.name_key, sort_by_parameter_order=True)
            for provider_id, key in session.execute(stmt, rows):
                self.providers[key] = provider_id

    def _next_placeholder(self, session: Session) -> int:
        highest = session.scalar(
            select(func.max(Provider.npi)).where(
                Provider.practice_id == self.practice_id, Provider.npi.like(f"{PLACEHOLDER_NPI_PREFIX}%")
            )
        )
        return int(highest[1:]) + 1 if highest and highest[1:].isdigit() else 1

    def ensure_payer(self, session: Session, ref: PayerRef) -> tuple[int, bool]:
        """The payer's id, creating it (and its alias) when unknown; True when created."""
        match = self.payer(ref)
        key = payer_key(ref.name)
        created = False
        payer_id = match.payer_id
        if payer_id is None:
            payer = Payer(name=ref.name[:200], edi_payer_id=(ref.payer_id or "")[:20])
            session.add(payer)
            session.flush()
            payer_id, created = payer.id, True
            if ref.payer_id:
                self.payers_by_edi.setdefault(ref.payer_id.upper(), payer_id)
        if key and key not in self.aliases and (created or match.new_alias):
            session.add(PayerAlias(payer_id=payer_id, alias=ref.name[:250], normalized=key[:250]))
            session.flush()
            self.aliases.add(key)
        self.payers_by_key.setdefault(key, payer_id)
        return payer_id, created
