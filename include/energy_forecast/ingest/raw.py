"""Read a raw CSV exactly as written, in batches, refusing files that cannot be ingested at all.

Every value is kept as the string the file holds, so nothing is lost to type coercion before
validation decides what it means, and a quarantined row shows what the source really said,
with the line it starts on and how many fields it really had.

:func:`open_raw_csv` checks the whole file before any row is used: it exists, is not empty,
is UTF-8 (checked incrementally while hashing it), and has a header with every required
column and at least one data row. :meth:`RawCsv.batches` then reads ``batch_rows`` records at
a time, so memory depends on the batch size, not on the file's. Problems that concern the
whole file raise :class:`InputDataError` with a message naming the problem, never the file's
contents; problems of single rows are flagged here and judged by
:mod:`energy_forecast.ingest.validation`.

The meaning of the file is defined by Python's :mod:`csv` module: records, quoting, blank
lines skipped, line numbers counted as its ``line_num``. It tokenises about a million rows in
five seconds, so a plain file (no quote character, no carriage return outside ``\\r\\n``, no
NUL, no field longer than :func:`csv.field_size_limit`), where every record is exactly one
line and the csv module's result is known in advance, is read with ``pyarrow.csv`` instead,
ten times faster and with the same result: rows of the wrong length and blank lines come back
through its invalid-row handler with their position, and the empty lines it skips silently
were located by a scan of the bytes. Any other file is read with the csv module.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as arrow
import pyarrow.csv as arrow_csv

from energy_forecast import columns as c
from energy_forecast.ingest.errors import InputDataError

#: Records per batch: about 60 MB while a batch is tokenised with the csv module.
BATCH_ROWS = 100_000
_READ_BYTES = 1 << 20
#: Arrow's read-ahead holds about 100 times this (50 MB); larger blocks are no faster.
_ARROW_BLOCK_BYTES = 1 << 19
_LF, _CR, _QUOTE, _NUL = b"\n", b"\r", b'"', b"\x00"
#: A plain file with more empty lines than this is read with the csv module instead.
_MAX_EMPTY_LINES = 1_000_000


@dataclass(frozen=True)
class RawBatch:
    """Consecutive data records as strings, with where each came from."""

    #: One string column per header name (extras included), in the header's order.
    rows: arrow.RecordBatch
    #: 1-based line in the file where each record starts (the header is on line 1 or later).
    lines: np.ndarray
    #: How many fields each record really had; records of another length than the header
    #: are padded with ``""`` or cut to fit ``rows``.
    field_counts: np.ndarray
    #: Position of the first record among all data records of the file (0-based).
    first_row: int

    @property
    def n_rows(self) -> int:
        return self.rows.num_rows

    @property
    def row_numbers(self) -> np.ndarray:
        """Each record's position among all data records of the file (0-based)."""
        return np.arange(self.first_row, self.first_row + self.n_rows, dtype=np.int64)


@dataclass(frozen=True)
class PlainLayout:
    """Where a plain file's data starts and which of its lines are empty."""

    header_line: int
    #: Byte offset of the line after the header.
    data_offset: int
    #: Line numbers of the empty lines after the header, ascending.
    empty_lines: np.ndarray
    bytes_per_line: float


@dataclass(frozen=True)
class RawCsv:
    """A source file that passed the whole-file checks, ready to be read in batches."""

    path: Path
    sha256: str
    #: Column names as the header gives them, stripped of surrounding whitespace.
    header: tuple[str, ...]
    #: Size and modification time when the file was hashed, to notice a later change.
    version: tuple[int, int] = field(repr=False)
    #: Set when the file is plain enough for Arrow's reader; ``None``: the csv module reads it.
    plain: PlainLayout | None = field(default=None, repr=False)

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
        """The data records, ``batch_rows`` at a time (the last batch may hold fewer)."""
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
        chunks = self._plain_chunks(batch_rows) if self.plain else self._csv_chunks(batch_rows)
        pending: list[_Chunk] = []
        first_row = 0
        for chunk in itertools.chain(chunks, [None]):
            if chunk is not None:
                pending.append(chunk)
            held = sum(rows.num_rows for rows, _, _ in pending)
            if not held or (held < batch_rows and chunk is not None):
                continue
            rows = arrow.concat_batches([rows for rows, _, _ in pending])
            lines = np.concatenate([lines for _, lines, _ in pending])
            counts = np.concatenate([counts for _, _, counts in pending])
            whole = held if chunk is None else held - held % batch_rows
            for start in range(0, whole, batch_rows):
                stop = min(start + batch_rows, whole)
                yield RawBatch(
                    rows=rows.slice(start, stop - start),
                    lines=lines[start:stop],
                    field_counts=counts[start:stop],
                    first_row=first_row + start,
                )
            first_row += whole
            pending = [(rows.slice(whole), lines[whole:], counts[whole:])] if whole < held else []
        if _version(self.path) != self.version:
            raise InputDataError(
                f"input file {self.path} changed while it was being read; "
                "run again once it is complete"
            )

    def _csv_chunks(self, batch_rows: int) -> Iterator[_Chunk]:
        width = len(self.header)
        records = _records(self.path)
        next(records)  # the header, checked by open_raw_csv
        while chunk := list(itertools.islice(records, batch_rows)):
            lines = np.fromiter((line for line, _ in chunk), dtype=np.int64, count=len(chunk))
            counts = np.fromiter((len(r) for _, r in chunk), dtype=np.int64, count=len(chunk))
            fitted = (_fit(r, width) for _, r in chunk)
            columns = [arrow.array(values, arrow.string()) for values in zip(*fitted, strict=True)]
            yield arrow.RecordBatch.from_arrays(columns, names=list(self.header)), lines, counts

    def _plain_chunks(self, batch_rows: int) -> Iterator[_Chunk]:
        """Arrow's reader; its invalid rows (and blank lines) merged back in file order."""
        assert self.plain is not None
        width, plain = len(self.header), self.plain
        names = [f"c{i}" for i in range(width)]
        # Arrow numbers a row by its position among the non-empty lines after the header, and
        # calls the handler from its read-ahead thread: by the time a batch arrives, every row
        # before its last one has been handled, later ones may have been too.
        invalid: list[tuple[int, list[str] | None]] = []
        lock = threading.Lock()

        def set_aside(row: arrow_csv.InvalidRow) -> str:
            fields = row.text.split(",")
            blank = len(fields) == 1 and not fields[0].strip()  # the csv module skips these
            with lock:
                invalid.append((row.number, None if blank else fields))
            return "skip"

        # Arrow keeps dozens of blocks in flight: small blocks keep that memory small.
        block = int(min(max(batch_rows * plain.bytes_per_line, 1 << 14), _ARROW_BLOCK_BYTES))
        read = arrow_csv.ReadOptions(column_names=names, use_threads=False, block_size=block)
        parse = arrow_csv.ParseOptions(quote_char=False, invalid_row_handler=set_aside)
        convert = arrow_csv.ConvertOptions(
            column_types=dict.fromkeys(names, arrow.string()), strings_can_be_null=False
        )
        counted = 0  # the non-empty lines up to this one have been passed on
        with self.path.open("rb") as handle:
            handle.seek(plain.data_offset)
            with arrow_csv.open_csv(handle, read, parse, convert) as reader:
                for parsed in reader:
                    with lock:
                        invalid.sort(key=lambda item: item[0])
                        pending = np.fromiter((n for n, _ in invalid), np.int64, len(invalid))
                        ranks = np.arange(1, parsed.num_rows + 1)
                        numbers = counted + _nth_not_in(ranks, pending[pending > counted] - counted)
                        if not len(numbers):
                            continue
                        counted = int(numbers[-1])
                        before = int(np.searchsorted(pending, counted))
                        earlier, invalid[:before] = invalid[:before], []
                    yield self._plain_chunk(parsed, numbers, earlier)
        invalid.sort(key=lambda item: item[0])  # the reader is closed: no more calls
        if invalid:
            yield self._plain_chunk(None, np.empty(0, dtype=np.int64), invalid)

    def _plain_chunk(
        self,
        parsed: arrow.RecordBatch | None,
        numbers: np.ndarray,
        invalid: list[tuple[int, list[str] | None]],
    ) -> _Chunk:
        """Rows Arrow parsed (at non-empty line ``numbers``) and the records it set aside."""
        assert self.plain is not None
        width = len(self.header)
        empty = arrow.array([], arrow.string())
        columns = list(parsed.columns) if parsed is not None else [empty] * width
        counts = np.full(len(numbers), width, dtype=np.int64)
        records = [(number, fields) for number, fields in invalid if fields is not None]
        if records:
            fitted = zip(*(_fit(fields, width) for _, fields in records), strict=True)
            columns = [
                arrow.concat_arrays([column, arrow.array(values, arrow.string())])
                for column, values in zip(columns, fitted, strict=True)
            ]
            numbers = np.concatenate([numbers, [number for number, _ in records]])
            counts = np.concatenate([counts, [len(fields) for _, fields in records]])
            order = np.argsort(numbers, kind="stable")
            columns = [column.take(order) for column in columns]
            numbers, counts = numbers[order], counts[order]
        plain = self.plain
        lines = plain.header_line + _nth_not_in(numbers, plain.empty_lines - plain.header_line)
        return arrow.RecordBatch.from_arrays(columns, names=list(self.header)), lines, counts


_Chunk = tuple[arrow.RecordBatch, np.ndarray, np.ndarray]


def _nth_not_in(ranks: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """The ``n``-th positive integer not in ``excluded`` (ascending), for each ``n`` in ``ranks``.

    ``excluded[i] - i - 1`` kept numbers precede ``excluded[i]``, so it lies below the
    ``n``-th kept number when ``excluded[i] - i <= n``: one binary search counts them.
    """
    shifted = excluded - np.arange(len(excluded))
    return ranks + np.searchsorted(shifted, ranks, side="right")


def _fit(record: list[str], width: int) -> list[str]:
    return record if len(record) == width else (record + [""] * width)[:width]


class BatchSpill:
    """Batches kept in an Arrow IPC file, to be read again without tokenising the CSV again.

    Use as a context manager to write; :meth:`batches` reads them back, one at a time.
    """

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.path = path
        self.header = header
        fields = [(f"c{i}", arrow.string()) for i in range(len(header))]
        fields += [("line", arrow.int64()), ("field_count", arrow.int64())]
        self._schema = arrow.schema(fields)
        self._writer: arrow.ipc.RecordBatchStreamWriter | None = None

    def __enter__(self) -> BatchSpill:
        options = arrow.ipc.IpcWriteOptions(compression="zstd")
        self._writer = arrow.ipc.new_stream(self.path, self._schema, options=options)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    def write(self, batch: RawBatch) -> None:
        if self._writer is None:
            raise RuntimeError("BatchSpill.write outside its with block")
        arrays = [*batch.rows.columns, arrow.array(batch.lines), arrow.array(batch.field_counts)]
        self._writer.write_batch(arrow.RecordBatch.from_arrays(arrays, schema=self._schema))

    def batches(self) -> Iterator[RawBatch]:
        """The spilled batches in the order they were written."""
        width = len(self.header)
        first_row = 0
        # A stream, not the path: Arrow would map the file into memory and count it as ours.
        with arrow.ipc.open_stream(arrow.input_stream(self.path)) as reader:
            for stored in reader:
                rows = arrow.RecordBatch.from_arrays(stored.columns[:width], list(self.header))
                lines = stored.column(width).to_numpy()
                counts = stored.column(width + 1).to_numpy()
                yield RawBatch(rows=rows, lines=lines, field_counts=counts, first_row=first_row)
                first_row += stored.num_rows


def open_raw_csv(path: Path) -> RawCsv:
    """Check that ``path`` is a non-empty UTF-8 CSV with every column and at least one row."""
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"input file {path} does not exist")
    if not path.is_file():
        raise InputDataError(f"input path {path} is not a file")
    if path.stat().st_size == 0:
        raise InputDataError(f"input file {path} is empty (0 bytes)")
    version = _version(path)
    sha256 = _hash_checking_utf8(path)
    first_two = list(itertools.islice(_records(path), 2))
    if not first_two:
        raise InputDataError(f"input file {path} is empty (only blank lines, no header)")
    header_line, names = first_two[0]
    header = tuple(name.strip() for name in names)
    _check_header(header, path)
    if len(first_two) < 2:
        raise InputDataError(f"input file {path} has a header but no data rows")
    plain = _plain_layout(path, header_line)
    return RawCsv(path=path, sha256=sha256, header=header, plain=plain, version=version)


def _version(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _hash_checking_utf8(path: Path) -> str:
    """SHA-256 of the file's bytes; an encoding error names the byte and its offset."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # of the next chunk in the file
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_READ_BYTES)
            digest.update(chunk)
            pending = len(decoder.getstate()[0])  # bytes of a character split by the last read
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                raise InputDataError(
                    f"input file {path} has an unreadable encoding: not valid UTF-8 "
                    f"(byte {err.object[err.start]:#04x} at offset {offset - pending + err.start})"
                ) from err
            if not chunk:
                return digest.hexdigest()
            offset += len(chunk)


def _plain_layout(path: Path, header_line: int) -> PlainLayout | None:
    """Where the data starts and which lines are empty, if every record is one plain line."""
    limit = csv.field_size_limit()
    lines = 0  # line terminators seen
    last_lf = -1  # offset of the last line feed
    last_byte = b""
    data_offset: int | None = None
    empty: list[np.ndarray] = []
    crs = crlfs = offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_BYTES):
            if _QUOTE in chunk or _NUL in chunk:
                return None
            crs += chunk.count(_CR)
            crlfs += chunk.count(_CR + _LF) + (last_byte == _CR and chunk[:1] == _LF)
            data = np.frombuffer(chunk, dtype=np.uint8)
            at = np.flatnonzero(data == ord(_LF))
            ends = at + offset
            starts = np.concatenate([[last_lf + 1], ends[:-1] + 1])
            before = np.where(at > 0, data[np.maximum(at - 1, 0)], ord(last_byte or b"\0"))
            length = ends - starts - (before == ord(_CR))
            numbers = lines + 1 + np.arange(len(at))
            if len(at) and length.max() > limit:
                return None
            if data_offset is None and lines + len(at) >= header_line:
                data_offset = int(ends[header_line - lines - 1]) + 1
            empty.append(numbers[(length == 0) & (numbers > header_line)])
            if sum(len(e) for e in empty) > _MAX_EMPTY_LINES:
                return None
            lines += len(at)
            last_lf = int(ends[-1]) if len(at) else last_lf
            last_byte = chunk[-1:]
            offset += len(chunk)
    if crs != crlfs or offset - last_lf - 1 > limit or data_offset is None:
        return None
    return PlainLayout(
        header_line=header_line,
        data_offset=data_offset,
        empty_lines=np.concatenate(empty) if empty else np.empty(0, dtype=np.int64),
        bytes_per_line=offset / max(lines, 1),
    )


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on; the header is the first."""
    with path.open(encoding="utf-8-sig", newline="") as handle:  # tolerate Excel's BOM
        reader = csv.reader(handle)
        start = 1  # reader.line_num is the last line read, so a record starts after the previous
        try:
            for record in reader:
                if len(record) > 1 or (record and record[0].strip()):
                    yield start, record
                start = reader.line_num + 1
        except csv.Error as err:
            raise InputDataError(
                f"input file {path} is not a well-formed CSV near line {reader.line_num}: {err}"
            ) from err


def _check_header(header: tuple[str, ...], path: Path) -> None:
    # Messages name our own column names and counts only: the file's text stays out of logs.
    missing = [name for name in c.RAW_COLUMNS if name not in header]
    if missing:
        raise InputDataError(
            f"input file {path} is missing required column(s) {', '.join(missing)} "
            f"(its first line has {len(header)} fields; expected the columns "
            f"{', '.join(c.RAW_COLUMNS)})"
        )
    repeated = sorted(name for name, count in Counter(header).items() if count > 1)
    if repeated:
        known = [name for name in repeated if name in c.RAW_COLUMNS]
        named = f"column(s) {', '.join(known)}" if known else f"{len(repeated)} other column(s)"
        raise InputDataError(f"input file {path} repeats {named}")
