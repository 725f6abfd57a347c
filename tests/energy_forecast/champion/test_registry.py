"""The registry is MLflow's: one model version per promotion, the alias ``champion`` moved in
one guarded step, and nothing loaded that differs from what was published."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
from pathlib import Path

import pytest

from energy_forecast.champion.registry import (
    CHAMPION_ALIAS,
    MODEL_NAME,
    PROMOTED_AT_TAG,
    ChampionMovedError,
    Registry,
    TamperedVersionError,
    history_rows,
)
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import TrackingStore
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


def _register(registry: Registry, tag: str, **options) -> object:
    replaces = options.pop("replaces", None)
    mlflow_run = DagRunTracker(registry.store, tag).parent_run_id()
    kwargs = {} if replaces == "any" else {"replaces": replaces}
    return registry.register(_build(tag, **options), mlflow_run_id=mlflow_run, **kwargs)


def _staged(registry: Registry) -> list[str]:
    return [p.name for p in registry.store.folder.iterdir() if p.name.startswith(".staged")]


@pytest.fixture
def registry(tracking_store: TrackingStore) -> Registry:
    return Registry(tracking_store)


def test_an_empty_registry_has_no_current_version(registry: Registry) -> None:
    assert registry.current() is None
    assert registry.versions() == []
    assert history_rows(registry) == []


def test_each_promotion_is_a_new_model_version_and_takes_the_alias(registry: Registry) -> None:
    first = _register(registry, "run-1")
    second = _register(registry, "run-2", replaces="1")

    assert [v.name for v in registry.versions()] == ["1", "2"]
    assert registry.current().name == second.name == "2"
    assert (registry.current().path / "forecasts.parquet").read_text() == "run-2"
    assert (first.path / "forecasts.parquet").read_text() == "run-1"  # kept, not overwritten
    alias = registry.store.client().get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    assert str(alias.version) == "2" and alias.tags[PROMOTED_AT_TAG]
    assert second.uri == "models:/energy_forecast/2"


def test_a_version_is_registered_from_its_dag_runs_mlflow_run(registry: Registry) -> None:
    version = _register(registry, "run-1")

    found = registry.store.client().get_model_version(MODEL_NAME, version.name)
    parent = DagRunTracker(registry.store, "run-1").parent_run_id()
    assert found.run_id == parent
    assert version.path.is_relative_to(registry.store.artifact_root / parent)


def test_a_failed_build_leaves_the_champion_and_no_trace(registry: Registry) -> None:
    _register(registry, "run-1")

    with pytest.raises(RuntimeError, match="forecasting failed"):
        _register(registry, "run-2", fail=True, replaces="1")

    assert registry.current().name == "1"
    assert len(registry.versions()) == 1
    assert _staged(registry) == []


def test_history_marks_the_champion(registry: Registry) -> None:
    _register(registry, "run-1")
    _register(registry, "run-2", replaces="1")

    rows = history_rows(registry)

    assert [row[0] for row in rows] == ["2 *", "1"]
    assert [row[2] for row in rows] == ["run-2", "run-1"]


def test_a_version_replaces_only_the_champion_its_gate_compared_against(
    registry: Registry,
) -> None:
    _register(registry, "run-1")
    _register(registry, "run-2", replaces="1")

    with pytest.raises(ChampionMovedError, match=r"champion is version 2, not 1"):
        _register(registry, "run-3", replaces="1")

    assert registry.current().name == "2"
    assert [v.name for v in registry.versions()] == ["1", "2"]
    assert _staged(registry) == []


def test_a_champion_is_never_replaced_by_older_data(registry: Registry) -> None:
    _register(registry, "day-8", data_last_date="2025-04-08")

    with pytest.raises(ChampionMovedError, match=r"older than the champion"):
        _register(registry, "day-5", data_last_date="2025-04-05", replaces="1")

    assert registry.current().metadata["run_id"] == "day-8"


def test_a_retried_publish_gets_the_version_its_earlier_try_registered(
    registry: Registry,
) -> None:
    """The try that went live died before Airflow heard of it; its retry finds the alias
    moved (to its own version), and must neither fail nor register a second version."""
    _register(registry, "run-1")
    first_try = _register(registry, "run-2", fingerprint="f2", replaces="1")

    retry = _register(registry, "run-2", fingerprint="f2", replaces="1")

    assert retry.name == first_try.name == "2"
    assert [v.name for v in registry.versions()] == ["1", "2"]
    assert registry.find("run-2", "f2").name == "2"
    assert registry.find("run-2", "another input") is None
    assert _staged(registry) == []


def test_a_retry_whose_try_died_before_the_alias_moved_makes_that_version_current(
    registry: Registry,
) -> None:
    _register(registry, "run-1")
    # What a try that died between registering and moving the alias leaves behind.
    parent = DagRunTracker(registry.store, "run-2").parent_run_id()
    orphan = registry._create_version(
        registry.current().path.as_uri(),
        parent,
        {"airflow.run_id": "run-2", "fingerprint_sha256": _digest("f2")},
        {},
    )

    retry = _register(registry, "run-2", fingerprint="f2", replaces="1")

    assert retry.name == orphan.name == "2"
    assert registry.current().name == "2" and len(registry.versions()) == 2


def _digest(fingerprint: str) -> str:
    from energy_forecast.champion.registry import fingerprint_digest

    return fingerprint_digest(fingerprint)


@pytest.fixture(params=["file lock", "postgres advisory lock"])
def lock_url(request: pytest.FixtureRequest) -> str | None:
    """The local store's flock, or a Postgres advisory lock in a database of its own."""
    if request.param == "file lock":
        return None
    return request.getfixturevalue("scratch_database")


def test_two_publishers_racing_leave_the_newest_data_or_one_refusal(
    tmp_path: Path, tracking_store: TrackingStore, lock_url: str | None
) -> None:
    """Both gated on version 1 and both building at once, in two processes: the older data
    never ends as champion after the newer, and the loser says why."""
    registry = Registry(dataclasses.replace(tracking_store, lock_url=lock_url))
    _register(registry, "day-1", data_last_date="2025-04-01")
    inside_build, results = _SPAWN.Barrier(2), _SPAWN.Queue()
    racers = [
        _SPAWN.Process(
            target=racing_publishers.publish,
            args=(str(tmp_path), lock_url, run_id, day, "1", inside_build, results),
        )
        for run_id, day in (("day-8", "2025-04-08"), ("day-5", "2025-04-05"))
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)
    outcome = dict(results.get(timeout=5) for _ in racers)

    assert [racer.exitcode for racer in racers] == [0, 0]
    registered = [run_id for run_id, result in outcome.items() if result.startswith("version")]
    refused = [result for result in outcome.values() if result.startswith("refused")]
    assert len(registered) == 1 and len(refused) == 1, outcome
    assert "not 1 as when the gate" in refused[0]
    assert registry.current().metadata["run_id"] == registered[0]
    assert [v.name for v in registry.versions()] == ["1", "2"]
    assert _staged(registry) == []


def test_a_version_whose_files_are_as_published_is_verified(registry: Registry) -> None:
    version = _register(registry, "run-1")

    assert set(version.metadata["files"]) == {"forecasts.parquet"}
    assert registry.verified(registry.current()).name == "1"


@pytest.mark.parametrize("tamper", ["change", "remove", "add"])
def test_a_tampered_version_is_refused_before_anything_loads_it(
    registry: Registry, tamper: str
) -> None:
    _register(registry, "run-1")
    folder = registry.current().path
    if tamper == "change":
        (folder / "forecasts.parquet").write_text("someone else's bytes")
    elif tamper == "remove":
        (folder / "forecasts.parquet").unlink()
    else:
        (folder / "model" / "stage.py").write_text("import os")

    with pytest.raises(TamperedVersionError, match=r"version 1 differs from what was published"):
        registry.verified(registry.current())


def test_rewriting_the_recorded_digests_on_the_volume_is_noticed(registry: Registry) -> None:
    """champion.json is on the volume too; its own digest is in MLflow's database."""
    _register(registry, "run-1")
    folder = registry.current().path
    (folder / "forecasts.parquet").write_text("someone else's bytes")
    metadata = json.loads((folder / "champion.json").read_text())
    metadata["files"]["forecasts.parquet"] = "0" * 64
    (folder / "champion.json").write_text(json.dumps(metadata))

    with pytest.raises(TamperedVersionError, match=r"champion.json is missing or differs"):
        registry.verified(registry.current())
