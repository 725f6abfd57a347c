"""Fixtures shared by the orchestration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_forecast.paths import ARTIFACTS_ENV
from energy_forecast.tracking.store import TrackingStore


@pytest.fixture
def artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_store: TrackingStore
) -> Path:
    """An artifacts root of the test's own under ``tmp_path``, with a local MLflow store."""
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path))
    return tmp_path
