"""Finding the newest run folder for ``make run``'s closing message."""

from __future__ import annotations

import os
from pathlib import Path

from energy_forecast.orchestration.latest_run import latest_run
from energy_forecast.paths import DAG_ID


def _run_folder(root: Path, name: str, mtime: float) -> Path:
    folder = root / DAG_ID / name
    folder.mkdir(parents=True)
    os.utime(folder, (mtime, mtime))
    return folder


def test_latest_run_picks_the_most_recently_modified_run_folder(tmp_path: Path) -> None:
    _run_folder(tmp_path, "manual__2025-04-01", 1_000)
    newest = _run_folder(tmp_path, "scheduled__2025-04-03", 3_000)
    _run_folder(tmp_path, "manual__2025-04-05", 2_000)  # later name, older folder

    layout = latest_run(tmp_path)

    assert layout is not None
    assert layout.run_dir == newest


def test_latest_run_ignores_the_champion_hidden_folders_and_files(tmp_path: Path) -> None:
    run = _run_folder(tmp_path, "manual__2025-04-01", 1_000)
    _run_folder(tmp_path, "champion", 9_000)
    _run_folder(tmp_path, ".champion.tmp-0123456789ab", 9_500)
    _run_folder(tmp_path, ".manual__2025-04-02.old-0123456789ab", 9_600)
    stray = tmp_path / DAG_ID / "notes.txt"
    stray.write_text("not a run")
    os.utime(stray, (9_900, 9_900))

    layout = latest_run(tmp_path)

    assert layout is not None
    assert layout.run_dir == run


def test_latest_run_is_none_when_no_run_has_written_a_folder(tmp_path: Path) -> None:
    assert latest_run(tmp_path) is None  # not even the DAG folder exists

    _run_folder(tmp_path, "champion", 1_000)
    _run_folder(tmp_path, ".hidden", 2_000)

    assert latest_run(tmp_path) is None
