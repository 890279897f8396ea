"""The audit chain's row hash, written out for bulk appends, is exactly the generic one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from revcycle.services import audit

texts = st.text(max_size=30)  # any Unicode: the canonical text is ASCII with escapes
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**62), max_value=2**62) | texts
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
objects = st.none() | st.dictionaries(texts, json_values, max_size=5)


@given(
    action=texts,
    actor=st.none() | st.integers(min_value=1, max_value=10**9),
    after=objects,
    before=objects,
    client_ids=st.lists(st.integers(min_value=1, max_value=10**9), max_size=5),
    entity=texts,
    entity_id=texts,
    practice_id=st.integers(min_value=1, max_value=10**6),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    reason=texts,
    seq=st.integers(min_value=1, max_value=10**12),
    source_ip=texts,
    offset=st.integers(min_value=0, max_value=10**9),
)
def test_the_written_out_hash_text_is_the_canonical_json(
    action: str,
    actor: int | None,
    after: dict[str, Any] | None,
    before: dict[str, Any] | None,
    client_ids: list[int],
    entity: str,
    entity_id: str,
    practice_id: int,
    prev_hash: str,
    reason: str,
    seq: int,
    source_ip: str,
    offset: int,
) -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=offset)
    row = {
        "practice_id": practice_id,
        "seq": seq,
        "actor_user_id": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "client_ids": sorted(set(client_ids)),
        "before": before,
        "after": after,
        "source_ip": source_ip,
        "reason": reason,
        "created_at": created,
        "prev_hash": prev_hash,
    }
    text = audit._canonical_text(row, created.astimezone(UTC).isoformat())
    assert audit._sha256(text) == audit._content_hash(row)
