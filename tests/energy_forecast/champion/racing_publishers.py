"""Publishers and backtest writers run as separate processes by ``test_registry``'s races.

A module of its own so that ``multiprocessing`` (spawn) can import these functions.
"""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from energy_forecast.champion.registry import ChampionMovedError, Registry


def publish(
    root: str, run_id: str, data_last_date: str, replaces: str | None, inside_build: Barrier,
    results: Queue,
) -> None:  # fmt: skip
    """Register a version gated against ``replaces``; every racer waits inside its build."""

    def build(folder: Path) -> dict:
        (folder / "forecasts.parquet").write_text(run_id)
        inside_build.wait(timeout=30)  # both builds are under way before either registers
        return {"model": "lstm", "run_id": run_id, "data_last_date": data_last_date}

    try:
        version = Registry(Path(root)).register(build, replaces=replaces)
        results.put((run_id, version.name))
    except ChampionMovedError as error:
        results.put((run_id, f"refused: {error}"))


def record_backtest_row(root: str, run_id: str, start: Barrier) -> None:
    start.wait(timeout=30)
    Registry(Path(root)).record_backtest({"run_id": run_id, "data_last_date": "2025-04-08"})
