"""A consumer of the published champion, reading it over and over while runs go on."""

from __future__ import annotations

import json
import threading

import pandas as pd

from energy_forecast.champion.registry import Registry
from energy_forecast.tracking.runs import RUN_ID_TAG


class ChampionReader(threading.Thread):
    """Resolves the alias ``champion`` over and over, the way a consumer would, reads the
    version it names, and notes any gap."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(daemon=True)
        self.registry, self.reads, self.problems = registry, 0, []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            version = self.registry.current()
            if version is None:
                continue
            try:
                self.registry.verified(version)
                meta = json.loads((version.path / "champion.json").read_text())
                forecasts = pd.read_parquet(version.path / "forecasts.parquet")
                assert (version.path / "pipeline_model" / "metadata").is_dir()
                assert (version.path / "model").is_dir() and len(forecasts) > 0
                assert (version.path / "MLmodel").is_file()
                assert meta["run_id"] == version.tags[RUN_ID_TAG]
                self.reads += 1
            except (OSError, ValueError, AssertionError) as error:
                self.problems.append(f"version {version.name}: {error!r}")
