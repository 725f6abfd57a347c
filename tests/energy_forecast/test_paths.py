"""Roots come from the using process's environment, and user paths stay inside them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from energy_forecast.errors import InputError
from energy_forecast.paths import (
    ARTIFACTS_ENV,
    DATA_ROOTS_ENV,
    RESERVED_FOLDERS,
    PathOutsideRootsError,
    RunLayout,
    artifacts_root,
    data_roots,
    resolve_inside,
    safe_run_id,
)


def test_the_artifacts_root_is_read_when_asked_not_at_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path / "first"))
    first = artifacts_root()
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path / "second"))

    assert (first, artifacts_root()) == (tmp_path / "first", tmp_path / "second")
    assert RunLayout.for_run("manual__1").run_dir.parent.parent == tmp_path / "second"


def test_data_roots_are_a_path_list_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ROOTS_ENV, os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))

    assert data_roots() == [tmp_path / "a", tmp_path / "b"]


def test_data_roots_default_to_the_projects_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ROOTS_ENV, raising=False)

    assert [p.name for p in data_roots()] == ["data"]


@pytest.mark.parametrize("inside", ["file.csv", "sub/file.csv", "sub/../file.csv"])
def test_a_path_inside_a_root_is_resolved(tmp_path: Path, inside: str) -> None:
    assert resolve_inside(inside, [tmp_path]).is_relative_to(tmp_path)
    assert resolve_inside(tmp_path / inside, [tmp_path]).is_relative_to(tmp_path)


@pytest.mark.parametrize("outside", ["..", "../x.csv", "sub/../../x.csv", "/etc/passwd"])
def test_a_path_that_escapes_every_root_is_refused(tmp_path: Path, outside: str) -> None:
    root = tmp_path / "root"
    root.mkdir()

    with pytest.raises(PathOutsideRootsError, match=r"outside the allowed roots"):
        resolve_inside(outside, [root])


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.csv").write_text("secret")
    (root / "link.csv").symlink_to(tmp_path / "secret.csv")

    with pytest.raises(PathOutsideRootsError):
        resolve_inside("link.csv", [root])


def test_a_later_root_may_hold_the_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"

    assert resolve_inside(second / "x.csv", [first, second]) == second / "x.csv"


@pytest.mark.parametrize(
    "run_id", ["mlflow", ".mlflow.", "MLflow", "MLFLOW", "forecasts", "Forecasts"]
)
def test_a_run_id_naming_a_reserved_folder_gets_a_folder_of_its_own(
    tmp_path: Path, run_id: str
) -> None:
    folder = safe_run_id(run_id)

    assert folder.casefold() not in RESERVED_FOLDERS
    assert folder.casefold().startswith(run_id.strip(".").casefold() + "-")
    assert RunLayout.for_run(run_id, tmp_path).run_dir.name == folder


def test_run_ids_that_clean_to_the_same_name_get_different_folders() -> None:
    run_ids = ["manual__a:b", "manual__a+b", "manual__a_b", "manual__a b"]

    folders = [safe_run_id(run_id) for run_id in run_ids]

    assert len(set(folders)) == len(run_ids)
    assert folders[2] == "manual__a_b"  # already safe: its own name
    assert [safe_run_id(run_id) for run_id in run_ids] == folders  # the same every time


def test_a_run_id_with_no_usable_character_is_refused() -> None:
    with pytest.raises(InputError, match=r"no usable characters"):
        safe_run_id("::")


@pytest.mark.parametrize("run_id", ["mlflow_2", "manual__mlflow", "mlflow-rebuild"])
def test_a_run_id_that_only_contains_a_reserved_name_is_a_run(run_id: str) -> None:
    assert safe_run_id(run_id) == run_id
