"""Rows sharing a (household, date): one exact copy is kept, a disagreement keeps none.

Every test reads its rows two at a time, so copies land in different batches: the verdict on
the first copy depends on a row the first batch has not seen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from energy_forecast import columns as c
from energy_forecast.ingest.duplicates import KeyLog, key_hashes, resolve
from energy_forecast.ingest.raw import open_raw_csv
from energy_forecast.ingest.validation import CheckedBatch, check_batch
from energy_forecast.settings import IngestSettings

HEADER = ",".join(c.RAW_COLUMNS)
OTHER = "H00002,4/1/2025,Tuesday,12.5,3,20.1,Yes,5"


def row(kwh: str = "8.4", household: str = "H00001", has_ac: str = "No") -> str:
    return f"{household},4/1/2025,Tuesday,{kwh},4,17.8,{has_ac},3.2"


def checked_batches(tmp_path: Path, *rows: str) -> list[CheckedBatch]:
    path = tmp_path / "input.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return [check_batch(batch, IngestSettings()) for batch in open_raw_csv(path).batches(2)]


def verdicts(tmp_path: Path, *rows: str) -> list[str]:
    """Per input row: "keep", "duplicate" or "conflicting"."""
    batches = checked_batches(tmp_path, *rows)
    log = KeyLog(tmp_path / "keys.u64")
    for checked in batches:
        log.add(checked)
    found = resolve(batches, log.repeated())
    out = []
    for checked in batches:
        duplicate, conflicting = found.marks(checked.raw)
        out += np.select([duplicate, conflicting], ["duplicate", "conflicting"], "keep").tolist()
    return out


def test_exact_copies_keep_the_first_and_mark_the_later_ones(tmp_path: Path) -> None:
    assert verdicts(tmp_path, row(), OTHER, row(), row()) == [
        "keep",
        "keep",
        "duplicate",
        "duplicate",
    ]


def test_copies_that_disagree_are_all_marked_even_one_seen_batches_earlier(
    tmp_path: Path,
) -> None:
    assert verdicts(tmp_path, row("8.4"), OTHER, OTHER.replace("H00002", "H00003"), row("9.9")) == [
        "conflicting",
        "keep",
        "keep",
        "conflicting",
    ]


def test_one_disagreement_among_several_copies_marks_them_all(tmp_path: Path) -> None:
    assert verdicts(tmp_path, row("8.4"), row("8.4"), row("7")) == ["conflicting"] * 3


def test_values_are_compared_as_parsed_not_as_written(tmp_path: Path) -> None:
    same = row("8.40", has_ac=" yes ").replace("H00001", " H00001")
    assert verdicts(tmp_path, row("8.4", has_ac="Yes"), same) == ["keep", "duplicate"]


def test_a_broken_copy_does_not_count_against_a_usable_one(tmp_path: Path) -> None:
    # The negative energy is quarantined for its own reason; the other row is the only one.
    assert verdicts(tmp_path, row("-5"), row("6")) == ["keep", "keep"]


def test_the_same_day_of_different_households_is_no_duplicate(tmp_path: Path) -> None:
    assert verdicts(tmp_path, row(household="H1"), row(household="H2")) == ["keep", "keep"]


def test_a_hash_collision_costs_a_look_but_never_a_row(tmp_path: Path) -> None:
    batches = checked_batches(tmp_path, row(household="H1"), row(household="H2"), OTHER)
    every_hash = np.sort(np.concatenate([key_hashes(checked) for checked in batches]))

    found = resolve(batches, every_hash)  # as if all keys had collided

    assert len(found.rows) == 0


def test_the_key_log_finds_the_hashes_seen_more_than_once(tmp_path: Path) -> None:
    batches = checked_batches(tmp_path, row(), OTHER, row("9"), OTHER, row(household="H3"))
    log = KeyLog(tmp_path / "keys.u64")
    for checked in batches:
        log.add(checked)

    repeated = log.repeated()

    assert log.rows == 5
    assert log.nbytes == 40
    first, other = key_hashes(batches[0])
    assert repeated.tolist() == sorted([first, other])
