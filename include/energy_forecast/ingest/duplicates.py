"""Rows that repeat a (household, date): exact copies are dropped, disagreements are dropped whole.

Among rows that are otherwise fine (a broken copy is quarantined for its own reason and
does not count), two rows with the same household and date either carry the same values
(compared as parsed numbers, so ``8.4`` and ``8.40`` agree) or they do not:

* exact copies: the first in file order is kept, every later copy is quarantined as
  ``duplicate_household_date``;
* different values: nothing says which is right, so every one of them is quarantined as
  ``conflicting_household_date``.

The verdict for a row can depend on a row far later in the file, so it is reached before
anything is written, in bounded memory: the first pass writes a 64-bit hash of each
clean row's key to a scratch file (:class:`KeyLog`); sorting them (in memory: 8 bytes per
row, 72 MB for 9 million rows) shows which keys were seen more than once. Those suspects
are usually none; otherwise one more pass over the batches collects just the suspect rows
and compares them exactly (:func:`resolve`), so a hash collision can cost time but never
a wrong verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as arrow

from energy_forecast.ingest.raw import RawBatch
from energy_forecast.ingest.validation import CheckedBatch

_DATE_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd, so distinct days of a household never collide
_KEY = ["household", "days"]
_VALUES = [
    "Energy_Consumption_kWh",
    "Household_Size",
    "Avg_Temperature_C",
    "Has_AC",
    "Peak_Hours_Usage_kWh",
]


def key_hashes(checked: CheckedBatch) -> np.ndarray:
    """A 64-bit hash of each row's (household, date); equal keys give equal hashes."""
    return checked.household_hash + checked.days.astype(np.uint64) * _DATE_MIX


class KeyLog:
    """The key hashes of every clean row seen so far, appended to a scratch file.

    On disk, not in memory, while the batches are read: the hashes are loaded only to be
    sorted, once, after the batches' own working memory is free again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        path.write_bytes(b"")

    def add(self, checked: CheckedBatch) -> None:
        hashes = key_hashes(checked)[checked.clean]
        with self.path.open("ab") as handle:
            handle.write(hashes.tobytes())
        self.rows += len(hashes)

    @property
    def nbytes(self) -> int:
        """Memory the hashes take while they are sorted."""
        return self.rows * np.dtype(np.uint64).itemsize

    def repeated(self) -> np.ndarray:
        """The sorted hashes seen more than once."""
        keys = np.fromfile(self.path, dtype=np.uint64)
        keys.sort()
        return np.unique(keys[1:][keys[1:] == keys[:-1]])


@dataclass(frozen=True)
class Verdicts:
    """The rows (numbered in file order) that repeat a key, and whether they conflict."""

    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    conflicting: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))

    @property
    def duplicates(self) -> int:
        return int((~self.conflicting).sum())

    @property
    def conflicts(self) -> int:
        return int(self.conflicting.sum())

    def marks(self, batch: RawBatch) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``batch``: (a later exact copy, one of conflicting rows)."""
        start, stop = np.searchsorted(self.rows, [batch.first_row, batch.first_row + batch.n_rows])
        at = self.rows[start:stop] - batch.first_row
        conflicting = self.conflicting[start:stop]
        duplicate = np.zeros(batch.n_rows, dtype=bool)
        conflict = np.zeros(batch.n_rows, dtype=bool)
        duplicate[at[~conflicting]] = True
        conflict[at[conflicting]] = True
        return duplicate, conflict


def resolve(batches: Iterable[CheckedBatch], suspects: np.ndarray) -> Verdicts:
    """Compare the clean rows whose key hash is in ``suspects`` (sorted) exactly."""
    if not len(suspects):
        return Verdicts()
    found = []
    for checked in batches:
        hashes = key_hashes(checked)
        at = np.minimum(np.searchsorted(suspects, hashes), len(suspects) - 1)
        hit = checked.clean & (suspects[at] == hashes)
        if hit.any():
            found.append(_suspect_rows(checked, hit))
    if not found:
        return Verdicts()
    rows = pd.concat(found, ignore_index=True)  # in file order
    variants = rows.drop_duplicates([*_KEY, *_VALUES]).groupby(_KEY).size().rename("variants")
    conflicting = rows.join(variants, on=_KEY)["variants"] > 1
    repeated = rows.duplicated(_KEY, keep="first") & ~conflicting
    marked = (conflicting | repeated).to_numpy()
    return Verdicts(
        rows=rows["row"].to_numpy()[marked],
        conflicting=conflicting.to_numpy()[marked],
    )


def _suspect_rows(checked: CheckedBatch, hit: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": checked.raw.row_numbers[hit],
            "household": checked.household.filter(arrow.array(hit)).to_pandas(),
            "days": checked.days[hit],
            **{name: checked.numbers[name][hit] for name in _VALUES},
        }
    )
