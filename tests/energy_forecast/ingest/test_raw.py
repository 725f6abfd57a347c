"""Structural problems with the input file stop ingestion with a message naming file and problem."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from energy_forecast import columns as c
from energy_forecast.ingest.errors import InputDataError
from energy_forecast.ingest.raw import read_raw_csv

HEADER = ",".join(c.RAW_COLUMNS)
ROW = "H00001,4/1/2025,Tuesday,8.4,4,17.8,No,3.2"


def write(tmp_path: Path, text: str | bytes, name: str = "input.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(InputDataError, match="does not exist") as err:
        read_raw_csv(path)
    assert str(path) in str(err.value)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    with pytest.raises(InputDataError, match=r"empty \(0 bytes\)") as err:
        read_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_file_of_blank_lines_is_refused_as_empty(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="empty"):
        read_raw_csv(write(tmp_path, "\n\n  \n"))


def test_a_header_without_data_rows_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "\n")
    with pytest.raises(InputDataError, match="header but no data rows") as err:
        read_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    header = HEADER.replace(",Has_AC", "")
    row = ROW.replace(",No", "")
    path = write(tmp_path, f"{header}\n{row}\n")
    with pytest.raises(InputDataError, match=r"missing required column.*Has_AC") as err:
        read_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_header_error_never_quotes_the_files_first_line(tmp_path: Path) -> None:
    path = write(tmp_path, "root:x:0:0:secret-token:/root:/bin/bash\nuser:x:1000\n")
    with pytest.raises(InputDataError, match="missing required column") as err:
        read_raw_csv(path)
    assert "secret-token" not in str(err.value)
    assert "root:x" not in str(err.value)


def test_non_utf8_bytes_are_refused_as_an_unreadable_encoding(tmp_path: Path) -> None:
    latin1 = f"{HEADER}\n{ROW}\nH00002,4/1/2025,Tuesday,8,4,17,Nö,3\n".encode("latin-1")
    path = write(tmp_path, latin1)
    with pytest.raises(InputDataError, match=r"unreadable encoding.*UTF-8") as err:
        read_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_repeated_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"repeats column.*Date"):
        read_raw_csv(write(tmp_path, f"{HEADER},Date\n{ROW},4/2/2025\n"))


def test_a_repeated_unknown_column_is_counted_not_quoted(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"repeats 1 other column") as err:
        read_raw_csv(write(tmp_path, f"{HEADER},pw=hunter2,pw=hunter2\n{ROW},a,b\n"))
    assert "hunter2" not in str(err.value)


def test_every_value_is_kept_as_the_exact_string_in_the_file(tmp_path: Path) -> None:
    raw = read_raw_csv(
        write(tmp_path, f"{HEADER}\nH00001,04/01/2025,Tuesday,08.40,4,17.80, yes ,3\n")
    )
    assert raw.rows.iloc[0].tolist() == [
        "H00001", "04/01/2025", "Tuesday", "08.40", "4", "17.80", " yes ", "3"
    ]  # fmt: skip


def test_extra_columns_are_read_along(tmp_path: Path) -> None:
    raw = read_raw_csv(write(tmp_path, f"{HEADER},Comment\n{ROW},hello\n"))
    assert list(raw.rows.columns) == [*c.RAW_COLUMNS, "Comment"]
    assert raw.rows.loc[0, "Comment"] == "hello"


def test_line_numbers_count_blank_lines_and_the_header(tmp_path: Path) -> None:
    raw = read_raw_csv(write(tmp_path, f"{HEADER}\n{ROW}\n\n{ROW}\r\n{ROW}\n"))
    assert raw.lines.tolist() == [2, 4, 5]


def test_a_quoted_value_spanning_lines_is_one_record_numbered_by_its_first_line(
    tmp_path: Path,
) -> None:
    multi_line = 'H00002,4/1/2025,"Tues\nday",8,4,17,No,3'
    raw = read_raw_csv(write(tmp_path, f"{HEADER}\n{multi_line}\n{ROW}\n"))
    assert raw.lines.tolist() == [2, 4]
    assert raw.rows.loc[0, "Day_of_Week"] == "Tues\nday"


def test_records_of_the_wrong_length_are_kept_and_flagged(tmp_path: Path) -> None:
    raw = read_raw_csv(write(tmp_path, f"{HEADER}\n{ROW},surplus\nH00002,4/1/2025\n"))
    assert raw.field_counts.tolist() == [9, 2]
    assert raw.n_rows == 2
    assert raw.rows.loc[1, "Day_of_Week"] == ""


def test_the_sha256_is_that_of_the_file_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{ROW}\n")
    assert read_raw_csv(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
