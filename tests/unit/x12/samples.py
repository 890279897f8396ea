"""The public X12 sample files in ../shared/x12-samples (beside the project), for the tests that
learn real shapes from them. CI has the folder, so there a missing folder fails those tests;
only a checkout without ../shared skips them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "x12-samples"
GUIDE_837P = SAMPLES / "LinuxForHealth-x12" / "src" / "tests" / "resources" / "837_005010X222A2"

needs_samples = pytest.mark.skipif(
    not SAMPLES.exists() and not os.environ.get("CI"), reason="needs ../shared/x12-samples"
)
