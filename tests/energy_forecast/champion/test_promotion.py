"""A run whose input, data cut and Params equal the champion's has nothing to do."""

from __future__ import annotations

import dataclasses

from energy_forecast.champion.facts import RunFacts
from energy_forecast.champion.promotion import unchanged_reason
from energy_forecast.champion.registry import Registry
from energy_forecast.settings import PublishSettings
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import TrackingStore

FACTS = RunFacts("run-1", "kaggle", "ab" * 32, "2026-11-24", "2025-04-08", {"epochs": 60})


def _registry_with_champion_of(store: TrackingStore, facts: RunFacts) -> Registry:
    registry = Registry(store)
    registry.register(
        lambda folder: {"run_id": facts.run_id, "fingerprint": facts.fingerprint()},
        mlflow_run_id=DagRunTracker(store, facts.run_id).parent_run_id(),
    )
    return registry


def test_the_same_input_cut_and_params_as_the_champion_skip_and_say_why(
    tracking_store: TrackingStore,
) -> None:
    registry = _registry_with_champion_of(tracking_store, FACTS)
    rerun = dataclasses.replace(FACTS, run_id="run-2", cutoff="2026-11-25")

    reason = unchanged_reason(rerun, registry, PublishSettings())

    assert reason is not None and "version 1 (run run-1)" in reason


def test_promote_params_do_not_count_as_a_change(tracking_store: TrackingStore) -> None:
    registry = _registry_with_champion_of(tracking_store, FACTS)
    rerun = dataclasses.replace(FACTS, params={"epochs": 60, "promote": "never"})

    assert unchanged_reason(rerun, registry, PublishSettings()) is not None


def test_new_data_new_params_or_force_run_again(tracking_store: TrackingStore) -> None:
    registry = _registry_with_champion_of(tracking_store, FACTS)
    settings = PublishSettings()

    assert (
        unchanged_reason(dataclasses.replace(FACTS, input_sha256="cd" * 32), registry, settings)
        is None
    )
    assert (
        unchanged_reason(
            dataclasses.replace(FACTS, data_last_date="2025-04-09"), registry, settings
        )
        is None
    )
    assert (
        unchanged_reason(dataclasses.replace(FACTS, params={"epochs": 5}), registry, settings)
        is None
    )
    forced = PublishSettings(promote="force", promote_reason="retrain anyway")
    assert unchanged_reason(FACTS, registry, forced) is None


def test_without_a_champion_every_run_runs(tracking_store: TrackingStore) -> None:
    assert unchanged_reason(FACTS, Registry(tracking_store), PublishSettings()) is None
