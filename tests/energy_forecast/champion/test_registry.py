"""The registry keeps every champion as a version and switches "current" in one step."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from energy_forecast.champion.registry import Registry, history_rows


def _build(tag: str, fail: bool = False):
    def build(folder: Path) -> dict:
        (folder / "forecasts.parquet").write_text(tag)
        (folder / "model").mkdir()
        if fail:
            raise RuntimeError("forecasting failed")
        return {"model": "lstm", "run_id": tag, "data_last_date": "2025-04-08"}

    return build


def test_an_empty_registry_has_no_current_version(tmp_path: Path) -> None:
    registry = Registry(tmp_path)

    assert registry.current() is None
    assert registry.versions() == []
    assert history_rows(registry) == []


def test_each_registration_is_a_new_numbered_version_and_becomes_current(tmp_path: Path) -> None:
    registry = Registry(tmp_path)

    first = registry.register(_build("run-1"))
    second = registry.register(_build("run-2"))

    assert [v.name for v in registry.versions()] == ["v0001", "v0002"]
    assert registry.current().name == second.name == "v0002"
    assert (registry.pointer / "forecasts.parquet").read_text() == "run-2"
    assert (first.path / "forecasts.parquet").read_text() == "run-1"  # kept, not overwritten
    metadata = json.loads((registry.pointer / "champion.json").read_text())
    assert metadata["version"] == "v0002" and metadata["run_id"] == "run-2"


def test_a_failed_build_leaves_the_current_version_and_no_trace(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("run-1"))

    with pytest.raises(RuntimeError, match="forecasting failed"):
        registry.register(_build("run-2", fail=True))

    assert registry.current().name == "v0001"
    assert [p.name for p in registry.folder.iterdir()] == ["v0001"]


def test_a_reader_polling_current_always_finds_a_complete_version(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("run-0"))
    seen, problems, done = set(), [], threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                version = registry.pointer.resolve()  # resolve once, then read within it
                tag = (version / "forecasts.parquet").read_text()
                meta = json.loads((version / "champion.json").read_text())
                seen.add(tag)
                if meta["run_id"] != tag:
                    problems.append(f"metadata of {meta['run_id']} beside forecasts of {tag}")
            except (OSError, ValueError) as error:
                problems.append(repr(error))

    reader = threading.Thread(target=poll)
    reader.start()
    for n in range(1, 30):
        registry.register(_build(f"run-{n}"))
    done.set()
    reader.join()

    assert problems == []
    assert len(seen) > 1


def test_backtest_rows_are_one_per_run_and_ordered_by_data_date(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.record_backtest({"run_id": "b", "data_last_date": "2025-04-06", "promoted": False})
    registry.record_backtest({"run_id": "a", "data_last_date": "2025-04-05", "promoted": True})
    registry.record_backtest({"run_id": "b", "data_last_date": "2025-04-06", "promoted": True})

    assert [(r["run_id"], r["promoted"]) for r in registry.backtest()] == [
        ("a", True),
        ("b", True),
    ]


def test_history_marks_the_current_version(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("run-1"))
    registry.register(_build("run-2"))

    rows = history_rows(registry)

    assert [row[0] for row in rows] == ["v0002 *", "v0001"]
