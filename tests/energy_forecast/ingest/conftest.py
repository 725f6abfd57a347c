"""Ingestion tests write their CSVs under ``tmp_path``: make that an allowed data root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from energy_forecast.paths import DATA_ROOTS_ENV

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.fixture(autouse=True)
def data_roots_include_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ROOTS_ENV, os.pathsep.join([str(tmp_path), str(SHARED_DATA)]))
