"""Diagnosis pointers stored one character each: 1-9 then A-C for 10-12."""

from __future__ import annotations

from revcycle.services.claims_pipeline.pointers import decode_pointers, encode_pointers


def test_pointers_round_trip_up_to_twelve() -> None:
    assert decode_pointers("12") == (1, 2)
    assert decode_pointers("1a") == (1, 10)
    assert encode_pointers((1, 10, 12)) == "1AC"
    assert decode_pointers(encode_pointers(range(1, 13))) == tuple(range(1, 13))


def test_anything_else_is_dropped() -> None:
    assert decode_pointers(" 1,2 ") == (1, 2)
    assert encode_pointers((0, 13, 3)) == "3"
