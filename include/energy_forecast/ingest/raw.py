"""Read a raw CSV exactly as written, refusing files that cannot be ingested at all.

Every value is kept as the string the file holds, so nothing is lost to type coercion before
validation decides what it means, and a quarantined row shows what the source really said.
The file is tokenised with :mod:`csv` rather than ``pandas.read_csv`` because only the former
reports each record's line and field count: pandas silently turns a first row with one field
too many into an index and fails the whole file on a later one. Problems that concern the
whole file raise :class:`InputDataError`; problems of single rows are flagged here and judged
by :mod:`energy_forecast.ingest.validation`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from energy_forecast import columns as c
from energy_forecast.ingest.errors import InputDataError


@dataclass(frozen=True)
class RawInput:
    """A source file's data rows as strings, with where each came from."""

    path: Path
    sha256: str
    #: One row per data record, one ``str`` column per header name (extras included).
    rows: pd.DataFrame
    #: 1-based line in the file where each record starts (the header is on line 1 or later).
    lines: np.ndarray
    #: How many fields each record really had; records of another length than the header
    #: are padded with ``""`` or cut to fit ``rows``.
    field_counts: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.rows)


def read_raw_csv(path: Path) -> RawInput:
    """Read ``path`` as strings after checking it is a non-empty UTF-8 CSV with every column."""
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"input file {path} does not exist")
    if not path.is_file():
        raise InputDataError(f"input path {path} is not a file")
    data = path.read_bytes()
    if not data:
        raise InputDataError(f"input file {path} is empty (0 bytes)")
    header, records, lines = _tokenise(_decode(data, path), path)
    _check_header(header, path)
    if not records:
        raise InputDataError(f"input file {path} has a header but no data rows")
    width = len(header)
    field_counts = np.fromiter((len(r) for r in records), dtype=np.int64, count=len(records))
    fitted = [r if len(r) == width else (r + [""] * width)[:width] for r in records]
    return RawInput(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=pd.DataFrame(fitted, columns=header, dtype=object),
        lines=np.asarray(lines, dtype=np.int64),
        field_counts=field_counts,
    )


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")  # tolerate the byte-order mark Excel writes
    except UnicodeDecodeError as err:
        raise InputDataError(
            f"input file {path} has an unreadable encoding: not valid UTF-8 "
            f"(byte {data[err.start]:#04x} at offset {err.start})"
        ) from err


def _tokenise(text: str, path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data records and each record's first line; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1  # reader.line_num is the last line read, so a record starts after the previous
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                if header is None:
                    header = [name.strip() for name in record]
                else:
                    records.append(record)
                    lines.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        raise InputDataError(
            f"input file {path} is not a well-formed CSV near line {reader.line_num}: {err}"
        ) from err
    if header is None:
        raise InputDataError(f"input file {path} is empty (only blank lines, no header)")
    return header, records, lines


def _check_header(header: list[str], path: Path) -> None:
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
