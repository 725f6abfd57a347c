"""A run whose input, data cut and Params equal the champion's has nothing to do."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from energy_forecast.champion.promotion import RunFacts, unchanged_reason
from energy_forecast.champion.registry import Registry
from energy_forecast.settings import PublishSettings

FACTS = RunFacts("run-1", "kaggle", "ab" * 32, "2026-11-24", "2025-04-08", {"epochs": 60})


def _registry_with_champion_of(tmp_path: Path, facts: RunFacts) -> Registry:
    registry = Registry(tmp_path)
    registry.register(lambda folder: {"run_id": facts.run_id, "fingerprint": facts.fingerprint()})
    return registry


def test_the_same_input_cut_and_params_as_the_champion_skip_and_say_why(tmp_path: Path) -> None:
    registry = _registry_with_champion_of(tmp_path, FACTS)
    rerun = dataclasses.replace(FACTS, run_id="run-2", cutoff="2026-11-25")

    reason = unchanged_reason(rerun, registry, PublishSettings())

    assert reason is not None and "v0001 (run run-1)" in reason


def test_promote_params_do_not_count_as_a_change(tmp_path: Path) -> None:
    registry = _registry_with_champion_of(tmp_path, FACTS)
    rerun = dataclasses.replace(FACTS, params={"epochs": 60, "promote": "never"})

    assert unchanged_reason(rerun, registry, PublishSettings()) is not None


def test_new_data_new_params_or_force_run_again(tmp_path: Path) -> None:
    registry = _registry_with_champion_of(tmp_path, FACTS)
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


def test_without_a_champion_every_run_runs(tmp_path: Path) -> None:
    assert unchanged_reason(FACTS, Registry(tmp_path), PublishSettings()) is None
