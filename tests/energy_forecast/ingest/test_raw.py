"""Structural problems stop ingestion with a message naming file and problem; rows come in batches.

A plain file (one record per line, no quotes) is read by Arrow, any other by the csv module;
both must give the same records, lines and field counts, whatever the batch size.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from pathlib import Path

import pytest

from energy_forecast import columns as c
from energy_forecast.ingest.errors import InputDataError
from energy_forecast.ingest.raw import RawCsv, open_raw_csv

HEADER = ",".join(c.RAW_COLUMNS)
ROW = "H00001,4/1/2025,Tuesday,8.4,4,17.8,No,3.2"


def write(tmp_path: Path, text: str | bytes, name: str = "input.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def read_all(raw: RawCsv, batch_rows: int = 1000) -> tuple[list[dict], list[int], list[int]]:
    """Every record, its line and its field count, over all batches."""
    rows, lines, counts = [], [], []
    for batch in raw.batches(batch_rows):
        assert batch.n_rows <= batch_rows
        assert batch.first_row == len(rows)
        rows += batch.rows.to_pylist()
        lines += batch.lines.tolist()
        counts += batch.field_counts.tolist()
    return rows, lines, counts


def with_csv_module(raw: RawCsv) -> RawCsv:
    return dataclasses.replace(raw, plain=None)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(InputDataError, match="does not exist") as err:
        open_raw_csv(path)
    assert str(path) in str(err.value)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    with pytest.raises(InputDataError, match=r"empty \(0 bytes\)") as err:
        open_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_file_of_blank_lines_is_refused_as_empty(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="empty"):
        open_raw_csv(write(tmp_path, "\n\n  \n"))


def test_a_header_without_data_rows_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "\n\n")
    with pytest.raises(InputDataError, match="header but no data rows") as err:
        open_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    header = HEADER.replace(",Has_AC", "")
    row = ROW.replace(",No", "")
    path = write(tmp_path, f"{header}\n{row}\n")
    with pytest.raises(InputDataError, match=r"missing required column.*Has_AC") as err:
        open_raw_csv(path)
    assert str(path) in str(err.value)


def test_a_header_error_never_quotes_the_files_first_line(tmp_path: Path) -> None:
    path = write(tmp_path, "root:x:0:0:secret-token:/root:/bin/bash\nuser:x:1000\n")
    with pytest.raises(InputDataError, match="missing required column") as err:
        open_raw_csv(path)
    assert "secret-token" not in str(err.value)
    assert "root:x" not in str(err.value)


def test_non_utf8_bytes_are_refused_naming_the_byte_and_its_offset(tmp_path: Path) -> None:
    latin1 = f"{HEADER}\n{ROW}\nH00002,4/1/2025,Tuesday,8,4,17,Nö,3\n".encode("latin-1")
    path = write(tmp_path, latin1)
    with pytest.raises(InputDataError, match=r"unreadable encoding.*UTF-8") as err:
        open_raw_csv(path)
    assert str(path) in str(err.value)
    offset = latin1.index("ö".encode("latin-1"))
    assert f"byte 0xf6 at offset {offset}" in str(err.value)


def test_an_encoding_error_far_into_a_large_file_is_found(tmp_path: Path) -> None:
    body = f"{ROW}\n" * 50_000  # over 2 MB: the bad byte lies beyond the first chunks read
    data = f"{HEADER}\n{body}".encode() + b"H1,4/1/2025,Tuesday,8,4,17,\xff,3\n"
    offset = data.index(b"\xff")
    with pytest.raises(InputDataError, match=f"byte 0xff at offset {offset}"):
        open_raw_csv(write(tmp_path, data))


def test_a_utf8_character_split_across_read_chunks_is_fine(tmp_path: Path) -> None:
    head, filler = f"{HEADER},Note\n", f"{ROW},{'x' * 100}\n"
    text = head + filler * (((1 << 20) - len(head)) // len(filler) - 1)
    pad = (1 << 20) - 1 - len(text) - len(ROW) - 1  # "é" starts on the last byte of 1 MiB
    raw = open_raw_csv(write(tmp_path, f"{text}{ROW},{'y' * pad}é\n"))
    assert read_all(raw)[0][-1]["Note"].endswith("yé")


def test_a_repeated_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"repeats column.*Date"):
        open_raw_csv(write(tmp_path, f"{HEADER},Date\n{ROW},4/2/2025\n"))


def test_a_repeated_unknown_column_is_counted_not_quoted(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"repeats 1 other column") as err:
        open_raw_csv(write(tmp_path, f"{HEADER},pw=hunter2,pw=hunter2\n{ROW},a,b\n"))
    assert "hunter2" not in str(err.value)


def test_a_malformed_csv_is_refused_without_quoting_it(tmp_path: Path) -> None:
    huge = "z" * (csv.field_size_limit() + 1)
    raw = open_raw_csv(write(tmp_path, f"{HEADER}\n{ROW}\n{ROW.replace('No', huge)}\n"))
    with pytest.raises(InputDataError, match=r"not a well-formed CSV near line 3") as err:
        read_all(raw)
    assert "zzz" not in str(err.value)


def test_every_value_is_kept_as_the_exact_string_in_the_file(tmp_path: Path) -> None:
    raw = open_raw_csv(
        write(tmp_path, f"{HEADER}\nH00001,04/01/2025,Tuesday,08.40,4,17.80, yes ,3\n")
    )
    assert list(read_all(raw)[0][0].values()) == [
        "H00001", "04/01/2025", "Tuesday", "08.40", "4", "17.80", " yes ", "3"
    ]  # fmt: skip


def test_extra_columns_are_read_along(tmp_path: Path) -> None:
    raw = open_raw_csv(write(tmp_path, f"{HEADER},Comment\n{ROW},hello\n"))
    assert raw.header == (*c.RAW_COLUMNS, "Comment")
    assert read_all(raw)[0][0]["Comment"] == "hello"


def test_line_numbers_count_blank_lines_and_the_header(tmp_path: Path) -> None:
    raw = open_raw_csv(write(tmp_path, f"\n{HEADER}\n{ROW}\n\n   \n{ROW}\r\n{ROW}\n"))
    assert read_all(raw)[1] == [3, 6, 7]


def test_a_quoted_value_spanning_lines_is_one_record_numbered_by_its_first_line(
    tmp_path: Path,
) -> None:
    multi_line = 'H00002,4/1/2025,"Tues\nday",8,4,17,No,3'
    raw = open_raw_csv(write(tmp_path, f"{HEADER}\n{multi_line}\n{ROW}\n"))
    rows, lines, _ = read_all(raw)
    assert lines == [2, 4]
    assert rows[0]["Day_of_Week"] == "Tues\nday"


def test_records_of_the_wrong_length_are_kept_and_flagged(tmp_path: Path) -> None:
    raw = open_raw_csv(write(tmp_path, f"{HEADER}\n{ROW},surplus\nH00002,4/1/2025\n"))
    rows, _, counts = read_all(raw)
    assert counts == [9, 2]
    assert len(rows) == 2
    assert rows[1]["Day_of_Week"] == ""


def test_the_sha256_is_that_of_the_file_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{ROW}\n")
    assert open_raw_csv(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{ROW}\n")
    raw = open_raw_csv(path)
    with path.open("a", encoding="utf-8") as handle:  # a writer still appending to it
        handle.write(ROW.replace("4/1", "4/2") + "\n")

    with pytest.raises(InputDataError, match="changed while it was being read"):
        read_all(raw)


def test_batches_hold_at_most_batch_rows_records_in_file_order(tmp_path: Path) -> None:
    rows = [ROW.replace("H00001", f"H{i:05d}") for i in range(10)]
    raw = open_raw_csv(write(tmp_path, "\n".join([HEADER, *rows]) + "\n"))

    batches = list(raw.batches(4))

    assert [batch.n_rows for batch in batches] == [4, 4, 2]
    assert [batch.first_row for batch in batches] == [0, 4, 8]
    assert [b.row_numbers.tolist() for b in batches][-1] == [8, 9]
    assert [r["Household_ID"] for r in read_all(raw, 4)[0]] == [f"H{i:05d}" for i in range(10)]


def test_a_plain_file_is_read_by_arrow_and_a_quoted_one_by_the_csv_module(tmp_path: Path) -> None:
    assert open_raw_csv(write(tmp_path, f"{HEADER}\n{ROW}\n", "plain.csv")).plain is not None
    quoted = write(tmp_path, f'{HEADER}\n"H00001",{ROW.split(",", 1)[1]}\n', "quoted.csv")
    assert open_raw_csv(quoted).plain is None
    lone_cr = write(tmp_path, f"{HEADER}\r{ROW}\r", "lone_cr.csv")
    assert open_raw_csv(lone_cr).plain is None


PLAIN_BUT_AWKWARD = {
    "blank and whitespace lines": f"{HEADER}\n{ROW}\n\n   \n\t\n{ROW}\n\n",
    "windows line ends": f"{HEADER}\r\n{ROW}\r\n\r\n{ROW}\r\n",
    "blank lines before the header": f"\n  \n\n{HEADER}\n{ROW}\n",
    "byte order mark": f"\ufeff{HEADER}\n{ROW}\n",
    "rows of every length": f"{HEADER}\na\n{ROW},x\n,\n,,,,,,,\n{ROW}\nH2,4/1/2025\n{ROW},,",
    "only wrong rows": f"{HEADER}\nshort\n{ROW},long\n\n",
    "no final line end": f"{HEADER}\n{ROW}\n{ROW}",
    "extra column": f"{HEADER},Comment\n{ROW},hi\n{ROW}\n{ROW},a,b\n",
}


@pytest.mark.parametrize("text", PLAIN_BUT_AWKWARD.values(), ids=PLAIN_BUT_AWKWARD.keys())
@pytest.mark.parametrize("batch_rows", [1, 2, 1000])
def test_arrow_reads_a_plain_file_exactly_as_the_csv_module_does(
    tmp_path: Path, text: str, batch_rows: int
) -> None:
    raw = open_raw_csv(write(tmp_path, text))
    assert raw.plain is not None

    assert read_all(raw, batch_rows) == read_all(with_csv_module(raw), batch_rows)


def test_arrow_and_the_csv_module_agree_across_many_blocks(tmp_path: Path) -> None:
    oddities = ["", "   ", "a", f"{ROW},x", "H2,4/1/2025", ",,,,,,,"]
    lines = [oddities[i % 6] if i % 97 == 0 else ROW for i in range(60_000)]
    raw = open_raw_csv(write(tmp_path, "\r\n".join([HEADER, *lines]) + "\r\n"))
    assert raw.plain is not None

    assert read_all(raw, 7_000) == read_all(with_csv_module(raw), 7_000)
