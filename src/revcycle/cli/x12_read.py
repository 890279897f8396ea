"""`revcycle x12` commands (see cli/x12.py)."""

from __future__ import annotations

from revcycle.cli.x12 import app

__all__ = ["app"]
