"""Write the two outputs of ingestion a batch at a time: the validated table and the quarantine.

:class:`ValidatedWriter` appends row groups to ``validated.parquet`` in (household, date)
order, the order preprocessing and every reader of the table have always seen. When the input
is already in that order (the Kaggle file is) batches go straight to the file; otherwise rows
are sorted half a million at a time into runs kept on disk, and the runs are merged at the
end, reading a few thousand rows of each at a time: an external merge sort, so memory stays
bounded either way.
Every chunk passes the pandera gate, and the writer checks that the keys it writes strictly
increase, which proves the whole table sorted and free of repeated keys.

:class:`QuarantineWriter` appends quarantined rows to a CSV meant to be opened by people,
often in a spreadsheet. A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would be read there as a formula (CSV injection), so such cells, and such column names,
get a leading ``'`` as OWASP recommends. That includes legitimate negative numbers such as an
energy of ``-3`` (quarantined as negative): the file shows ``'-3``, which a spreadsheet
displays as the text ``-3``; strip one leading ``'`` to get the source's exact string back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_forecast import columns as c
from energy_forecast.ingest.schema import VALIDATED_ARROW_SCHEMA, check_validated

_ORDER = [(c.HOUSEHOLD, "ascending"), (c.DATE, "ascending")]
#: Rows per Parquet row group (the last one may hold fewer).
ROW_GROUP_ROWS = 131_072
#: Rows sorted in memory into one run (about 35 MB) when the input is not in order.
RUN_ROWS = 524_288
#: Rows read from each run at a time while merging.
_MERGE_CHUNK_ROWS = 8_192
#: Most runs merged at once; more are first merged into longer runs.
MERGE_FAN_IN = 64

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"

Key = tuple[str, date]


@dataclass(frozen=True)
class WrittenSummary:
    """What the manifest reports about the validated table."""

    rows: int
    households: int
    first_date: date | None
    last_date: date | None


class ValidatedWriter:
    """Collect validated rows in any order and write them sorted by (household, date).

    ``presorted`` promises that the rows arrive in that order (checked as they are written).
    ``workdir`` holds the sorted runs otherwise. :meth:`close` returns what was written.
    """

    def __init__(
        self,
        path: Path,
        *,
        presorted: bool,
        workdir: Path,
        row_group_rows: int = ROW_GROUP_ROWS,
        run_rows: int = RUN_ROWS,
        fan_in: int = MERGE_FAN_IN,
    ) -> None:
        self._writer = pq.ParquetWriter(path, VALIDATED_ARROW_SCHEMA)
        self._presorted = presorted
        self._workdir = workdir
        self._row_group_rows = row_group_rows
        self._run_rows = run_rows
        self._fan_in = max(fan_in, 2)
        self._unsorted: list[arrow.Table] = []
        self._unsorted_rows = 0
        self._runs: list[Path] = []
        self._run_count = 0
        self._closed = False
        self._pending: list[arrow.Table] = []
        self._pending_rows = 0
        self._last: Key | None = None
        self._rows = 0
        self._households = 0
        self._first_date: date | None = None
        self._last_date: date | None = None

    def write(self, table: arrow.Table) -> None:
        if not table.num_rows:
            return
        if self._presorted:
            self._emit(table)
            return
        self._unsorted.append(table)
        self._unsorted_rows += table.num_rows
        if self._unsorted_rows >= self._run_rows:
            self._sort_into_run()

    def close(self) -> WrittenSummary:
        self._sort_into_run()
        runs, self._runs = self._runs, []
        while len(runs) > self._fan_in:
            groups = [runs[i : i + self._fan_in] for i in range(0, len(runs), self._fan_in)]
            runs = [self._write_run(_merge(group)) for group in groups]
        for table in _merge(runs):
            self._emit(table)
        self._flush()
        self._writer.close()
        self._closed = True
        return WrittenSummary(self._rows, self._households, self._first_date, self._last_date)

    def __enter__(self) -> ValidatedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._closed:  # a failure: stop writing; atomic_file discards the file
            self._writer.close()

    def _sort_into_run(self) -> None:
        if self._unsorted_rows:
            table = arrow.concat_tables(self._unsorted).sort_by(_ORDER)
            self._unsorted, self._unsorted_rows = [], 0
            self._runs.append(self._write_run(iter([table])))

    def _write_run(self, tables: Iterator[arrow.Table]) -> Path:
        self._run_count += 1
        path = self._workdir / f"sorted-run-{self._run_count}.arrow"
        options = arrow.ipc.IpcWriteOptions(compression="zstd")
        with arrow.ipc.new_stream(path, VALIDATED_ARROW_SCHEMA, options=options) as stream:
            for table in tables:
                stream.write_table(table, max_chunksize=_MERGE_CHUNK_ROWS)
        return path

    def _emit(self, table: arrow.Table) -> None:
        """Queue sorted rows; write every full row group."""
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self._row_group_rows:
            queued = arrow.concat_tables(self._pending)
            rest = queued.slice(self._row_group_rows)
            self._pending, self._pending_rows = [rest], rest.num_rows
            self._write_group(queued.slice(0, self._row_group_rows))

    def _flush(self) -> None:
        if self._pending_rows:
            self._write_group(arrow.concat_tables(self._pending))
        self._pending, self._pending_rows = [], 0

    def _write_group(self, table: arrow.Table) -> None:
        """Gate, account for and write one row group."""
        table = table.combine_chunks()
        check_validated(table)
        households, dates = table.column(c.HOUSEHOLD), table.column(c.DATE)
        first: Key = (households[0].as_py(), dates[0].as_py())
        if not _in_order(households, dates, strict=True) or (self._last and self._last >= first):
            raise RuntimeError("validated rows are not in strictly increasing (household, date)")
        new_household = pc.not_equal(households[1:], households[:-1])
        self._households += int(pc.sum(new_household).as_py() or 0)
        self._households += self._last is None or self._last[0] != first[0]
        low, high = pc.min_max(dates).values()
        self._first_date = min(filter(None, (self._first_date, low.as_py())))
        self._last_date = max(filter(None, (self._last_date, high.as_py())))
        self._last = (households[-1].as_py(), dates[-1].as_py())
        self._rows += table.num_rows
        self._writer.write_table(table)


class OrderTracker:
    """Whether the keys seen so far, batch after batch, came in (household, date) order."""

    def __init__(self) -> None:
        self.in_order = True
        self._last: tuple[str, int] | None = None

    def add(self, households: arrow.Array, days: np.ndarray) -> None:
        """The next keys: household ids and days since 1970-01-01; repeats are in order."""
        if not self.in_order or not len(days):
            return
        first = (households[0].as_py(), int(days[0]))
        behind = self._last is not None and first < self._last
        self.in_order = not behind and _in_order(households, arrow.array(days), strict=False)
        self._last = (households[-1].as_py(), int(days[-1]))


class QuarantineWriter:
    """Append quarantined rows to a CSV whose header is written at once."""

    def __init__(self, handle: IO[str], columns: list[str]) -> None:
        self._handle = handle
        self._columns = columns
        header = pd.DataFrame(columns=[escape_formula(name) for name in columns])
        header.to_csv(handle, index=False, lineterminator="\n")
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        if list(frame.columns) != self._columns:
            raise ValueError("quarantined rows do not have the quarantine's columns")
        escaped = frame.apply(_escape_column)
        escaped.to_csv(self._handle, index=False, header=False, lineterminator="\n")
        self.rows += len(frame)


def escape_formula(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet would take it for a formula."""
    return _ESCAPE + value if value.startswith(FORMULA_PREFIXES) else value


def _escape_column(column: pd.Series) -> pd.Series:
    if column.dtype != object:
        return column  # the source line: a number we wrote ourselves
    risky = column.str.startswith(FORMULA_PREFIXES).to_numpy(dtype=bool, na_value=False)
    return column.where(~risky, _ESCAPE + column)


def _in_order(households: arrow.Array, dates: arrow.Array, *, strict: bool) -> bool:
    """Whether the keys increase (``strict``) or never decrease, row after row."""
    if len(households) < 2:
        return True
    before, after = households[:-1], households[1:]
    later = pc.greater if strict else pc.greater_equal
    later_day = pc.and_(pc.equal(after, before), later(dates[1:], dates[:-1]))
    return bool(pc.all(pc.or_(pc.greater(after, before), later_day)).as_py())


def _merge(runs: list[Path]) -> Iterator[arrow.Table]:
    """The rows of sorted ``runs`` as one sorted stream of small tables.

    Each step takes, from every run's current chunk, the rows up to the smallest last key
    among those chunks: no row still unread can come before them. That run's chunk is used up,
    so each step reads one more chunk at most, and memory holds one chunk per run.
    """
    readers = [_chunks(path) for path in runs]
    heads = {i: chunk for i, reader in enumerate(readers) if (chunk := next(reader, None))}
    while heads:
        bound = min(_last_key(chunk) for chunk in heads.values())
        parts = []
        for i, chunk in list(heads.items()):
            taken = _rows_up_to(chunk, bound)
            if taken:
                parts.append(chunk.slice(0, taken))
            if taken < chunk.num_rows:
                heads[i] = chunk.slice(taken)
            elif (following := next(readers[i], None)) is not None:
                heads[i] = following
            else:
                del heads[i]
        yield arrow.concat_tables(parts).sort_by(_ORDER)


def _chunks(path: Path) -> Iterator[arrow.Table]:
    with arrow.ipc.open_stream(arrow.input_stream(path)) as reader:  # read, not mapped
        for batch in reader:
            if batch.num_rows:
                yield arrow.Table.from_batches([batch])
    path.unlink()


def _last_key(chunk: arrow.Table) -> Key:
    return (chunk.column(c.HOUSEHOLD)[-1].as_py(), chunk.column(c.DATE)[-1].as_py())


def _rows_up_to(chunk: arrow.Table, key: Key) -> int:
    """How many rows of the sorted ``chunk`` have a key at most ``key``."""
    households, dates = chunk.column(c.HOUSEHOLD), chunk.column(c.DATE)
    household = arrow.scalar(key[0], arrow.string())
    day = arrow.scalar(key[1], arrow.date32())
    before = pc.less(households, household)
    same = pc.and_(pc.equal(households, household), pc.less_equal(dates, day))
    return int(pc.sum(pc.or_(before, same)).as_py() or 0)
