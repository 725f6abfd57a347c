"""A consumer of the published champion, reading it over and over while runs go on."""

from __future__ import annotations

import json
import threading

import pandas as pd

from energy_forecast.champion.registry import Registry


class ChampionReader(threading.Thread):
    """Reads "current" over and over, the way a consumer would, and notes any gap."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(daemon=True)
        self.registry, self.reads, self.problems = registry, 0, []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            if not self.registry.pointer.is_symlink():
                continue
            version = self.registry.pointer.resolve()
            try:
                meta = json.loads((version / "champion.json").read_text())
                forecasts = pd.read_parquet(version / "forecasts.parquet")
                assert (version / "pipeline_model" / "metadata").is_dir()
                assert (version / "model").is_dir() and len(forecasts) > 0
                assert meta["version"] == version.name
                self.reads += 1
            except (OSError, ValueError, AssertionError) as error:
                self.problems.append(f"{version.name}: {error!r}")
