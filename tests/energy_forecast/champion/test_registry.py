"""The registry keeps every champion as a version and switches "current" in one step."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from energy_forecast.champion.registry import (
    LOCK_FILE,
    ChampionMovedError,
    Registry,
    TamperedVersionError,
    history_rows,
)
from tests.energy_forecast.champion import racing_publishers

_SPAWN = multiprocessing.get_context("spawn")


def _build(tag: str, fail: bool = False, data_last_date: str = "2025-04-08", **metadata):
    def build(folder: Path) -> dict:
        (folder / "forecasts.parquet").write_text(tag)
        (folder / "model").mkdir()
        if fail:
            raise RuntimeError("forecasting failed")
        return {"model": "lstm", "run_id": tag, "data_last_date": data_last_date, **metadata}

    return build


def _staged(registry: Registry) -> list[str]:
    return [p.name for p in registry.folder.iterdir() if p.name.startswith(".staged")]


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
    assert sorted(p.name for p in registry.folder.iterdir()) == [LOCK_FILE, "v0001"]


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


def test_a_version_replaces_only_the_champion_its_gate_compared_against(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("run-1"), replaces=None)
    registry.register(_build("run-2"), replaces="v0001")

    with pytest.raises(ChampionMovedError, match=r"champion is v0002, not v0001"):
        registry.register(_build("run-3"), replaces="v0001")

    assert registry.current().name == "v0002"
    assert [v.name for v in registry.versions()] == ["v0001", "v0002"]
    assert _staged(registry) == []


def test_a_champion_is_never_replaced_by_older_data(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("day-8", data_last_date="2025-04-08"), replaces=None)

    with pytest.raises(ChampionMovedError, match=r"older than the champion"):
        registry.register(_build("day-5", data_last_date="2025-04-05"), replaces="v0001")

    assert registry.current().metadata["run_id"] == "day-8"


def test_a_retried_publish_gets_the_version_its_earlier_try_registered(tmp_path: Path) -> None:
    """The try that went live died before Airflow heard of it; its retry finds the champion
    moved (to its own version), and must neither fail nor register a second version."""
    registry = Registry(tmp_path)
    registry.register(_build("run-1"), replaces=None)
    first_try = registry.register(_build("run-2", fingerprint="f2"), replaces="v0001")

    retry = registry.register(_build("run-2", fingerprint="f2"), replaces="v0001")

    assert retry == first_try and retry.name == "v0002"
    assert [v.name for v in registry.versions()] == ["v0001", "v0002"]
    assert registry.find("run-2", "f2") == first_try
    assert registry.find("run-2", "another input") is None
    assert _staged(registry) == []


@pytest.mark.parametrize("repeat", range(3))
def test_two_publishers_racing_leave_the_newest_data_or_one_refusal(
    tmp_path: Path, repeat: int
) -> None:
    """Both gated on v0001 and both building at once, in two processes: the older data
    never ends as champion after the newer, and the loser says why."""
    registry = Registry(tmp_path)
    registry.register(_build("day-1", data_last_date="2025-04-01"), replaces=None)
    inside_build, results = _SPAWN.Barrier(2), _SPAWN.Queue()
    racers = [
        _SPAWN.Process(
            target=racing_publishers.publish,
            args=(str(tmp_path), run_id, day, "v0001", inside_build, results),
        )
        for run_id, day in (("day-8", "2025-04-08"), ("day-5", "2025-04-05"))
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    outcome = dict(results.get(timeout=5) for _ in racers)

    assert [racer.exitcode for racer in racers] == [0, 0]
    registered = [run_id for run_id, result in outcome.items() if result.startswith("v")]
    refused = [result for result in outcome.values() if result.startswith("refused")]
    assert len(registered) == 1 and len(refused) == 1, outcome
    assert "not v0001" in refused[0]
    assert registry.current().metadata["run_id"] == registered[0]
    assert [v.name for v in registry.versions()] == ["v0001", "v0002"]
    assert _staged(registry) == []


def test_twenty_concurrent_backtest_writers_lose_no_row(tmp_path: Path) -> None:
    start = _SPAWN.Barrier(20)
    writers = [
        _SPAWN.Process(
            target=racing_publishers.record_backtest_row, args=(str(tmp_path), f"run-{n}", start)
        )
        for n in range(20)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)

    assert [writer.exitcode for writer in writers] == [0] * 20
    rows = Registry(tmp_path).backtest()
    assert sorted(row["run_id"] for row in rows) == sorted(f"run-{n}" for n in range(20))


def test_a_version_whose_files_are_as_published_is_verified(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    version = registry.register(_build("run-1"))

    assert set(version.metadata["files"]) == {"forecasts.parquet"}
    assert registry.verified(registry.current()) == registry.current()


@pytest.mark.parametrize("tamper", ["change", "remove", "add"])
def test_a_tampered_version_is_refused_before_anything_loads_it(
    tmp_path: Path, tamper: str
) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("run-1"))
    folder = registry.current().path
    if tamper == "change":
        (folder / "forecasts.parquet").write_text("someone else's bytes")
    elif tamper == "remove":
        (folder / "forecasts.parquet").unlink()
    else:
        (folder / "model" / "stage.py").write_text("import os")

    with pytest.raises(TamperedVersionError, match=r"v0001 differs from what was published"):
        registry.verified(registry.current())


def test_a_version_without_recorded_digests_is_not_loaded(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register(_build("run-1"))
    metadata_file = registry.current().path / "champion.json"
    metadata = json.loads(metadata_file.read_text())
    del metadata["files"]
    metadata_file.write_text(json.dumps(metadata))

    with pytest.raises(TamperedVersionError, match=r"records no file digests"):
        registry.verified(registry.current())
