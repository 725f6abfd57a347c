"""Finding the newest run folder for ``make run``'s closing message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from energy_forecast.orchestration.latest_run import latest_run, main
from energy_forecast.paths import ARTIFACTS_ENV, DAG_ID, RunLayout


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


def test_latest_run_ignores_the_mlflow_store_hidden_folders_and_files(tmp_path: Path) -> None:
    run = _run_folder(tmp_path, "manual__2025-04-01", 1_000)
    _run_folder(tmp_path, "mlflow", 9_000)
    _run_folder(tmp_path, ".staged-0123456789ab", 9_500)
    _run_folder(tmp_path, ".manual__2025-04-02.old-0123456789ab", 9_600)
    stray = tmp_path / DAG_ID / "notes.txt"
    stray.write_text("not a run")
    os.utime(stray, (9_900, 9_900))

    layout = latest_run(tmp_path)

    assert layout is not None
    assert layout.run_dir == run


def _run_with_report(root: Path, name: str, mtime: float) -> RunLayout:
    layout = RunLayout(root / DAG_ID / name)
    layout.report_dir.mkdir(parents=True)
    layout.report_html.write_text("<html></html>")
    os.utime(layout.run_dir, (mtime, mtime))
    return layout


def test_the_mlflow_store_written_after_a_run_is_never_taken_for_the_newest_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run_with_report(tmp_path, "manual__2025-04-01", 1_000)
    _run_folder(tmp_path, "mlflow", 2_000)  # the report task logs to MLflow after its run wrote
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path))

    layout = latest_run(tmp_path)
    main()

    assert layout is not None
    assert layout.run_dir == run.run_dir
    printed = capsys.readouterr().out.splitlines()
    assert f"run folder: {run.run_dir}" in printed
    assert f"report: {run.report_html}" in printed


def test_make_run_says_when_the_newest_run_wrote_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _run_with_report(tmp_path, "manual__2025-04-01", 1_000)
    failed = _run_folder(tmp_path, "manual__2025-04-02", 2_000)
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path))

    main()

    printed = capsys.readouterr().out
    assert f"run folder: {failed}" in printed
    assert "report: not written" in printed


def test_latest_run_is_none_when_no_run_has_written_a_folder(tmp_path: Path) -> None:
    assert latest_run(tmp_path) is None  # not even the DAG folder exists

    _run_folder(tmp_path, "mlflow", 1_000)
    _run_folder(tmp_path, ".hidden", 2_000)

    assert latest_run(tmp_path) is None
