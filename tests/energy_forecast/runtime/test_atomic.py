"""Whole-folder replacement: readers see the old folder or the new one, never a mix."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from energy_forecast.runtime.atomic import atomic_file, replace_dir, temporary_sibling


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_temporary_sibling_is_a_fresh_hidden_path_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "parent" / "output"

    one, other = temporary_sibling(target), temporary_sibling(target)

    assert one.parent == other.parent == target.parent
    assert target.parent.is_dir()
    assert one.name.startswith(".output.tmp-")
    assert one != other
    assert not one.exists() and not other.exists()


def test_replace_dir_moves_the_staged_folder_into_a_new_target(tmp_path: Path) -> None:
    target = tmp_path / "output"
    staged = temporary_sibling(target)
    staged.mkdir()
    (staged / "new.txt").write_text("new")

    assert replace_dir(staged, target) == target

    assert (target / "new.txt").read_text() == "new"
    assert not staged.exists()
    assert _hidden(tmp_path) == []


def test_replace_dir_swaps_an_existing_target_whole_and_leaves_no_retired_folder(
    tmp_path: Path,
) -> None:
    target = tmp_path / "output"
    (target / "nested").mkdir(parents=True)
    (target / "old.txt").write_text("old")
    (target / "nested" / "old.bin").write_bytes(b"old")
    staged = temporary_sibling(target)
    staged.mkdir()
    (staged / "new.txt").write_text("new")

    replace_dir(staged, target)

    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert _hidden(tmp_path) == []


def test_replace_dir_raises_when_the_staged_folder_is_missing_and_keeps_the_target(
    tmp_path: Path,
) -> None:
    target = tmp_path / "output"
    target.mkdir()
    (target / "kept.txt").write_text("kept")
    missing = temporary_sibling(target)

    with pytest.raises(FileNotFoundError, match="does not exist"):
        replace_dir(missing, target)

    assert (target / "kept.txt").read_text() == "kept"
    assert _hidden(tmp_path) == []


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path: Path) -> None:
    """Two tries of one task writing the same file at once: both finish, one whole wins."""
    target = tmp_path / "metrics.json"
    both_writing = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(text: str) -> None:
        try:
            with atomic_file(target) as tmp:
                tmp.write_text(text[: len(text) // 2])
                both_writing.wait(timeout=10)  # the other writer is inside its block too
                with tmp.open("a") as rest:
                    rest.write(text[len(text) // 2 :])
        except BaseException as error:
            errors.append(error)

    texts = ["a" * 10_000, "b" * 10_000]
    writers = [threading.Thread(target=write, args=(text,)) for text in texts]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()

    assert errors == []
    assert target.read_text() in texts
    assert _hidden(tmp_path) == []
