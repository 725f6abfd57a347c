"""Wall time and peak memory of the download stage on copies of the real file, old and new.

    .venv/bin/python benchmarks/ingest_memory.py --copies 1 10 100 [--sorted] [--old c2fde0d]

A copy repeats every household of the real file under a suffix (``H00001_007``), so 100
copies are 9,000,000 rows (418 MB). The copies are written to a temporary folder, never into
the repository. By default the copies follow one another, which is not (household, date)
order, so the new code has to merge sorted runs; ``--sorted`` writes them in that order.
Each measurement is a fresh interpreter under ``/usr/bin/time -v``: the peak RSS is the whole
process's (imports included, about 170 MB), the wall time is ``run_download``'s own.
``--old`` also runs the implementation of a past commit, taken with ``git archive``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from itertools import groupby
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO.parent / "shared" / "data" / "household_energy_consumption.csv"
_CHILD = """
import json, sys, time
from pathlib import Path
from energy_forecast.ingest.download import run_download
from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings
start = time.perf_counter()
run_download(IngestSettings(source="local", local_csv_path=sys.argv[1]),
              RunLayout.for_run("bench", root=Path(sys.argv[2])))
print(json.dumps({"seconds": round(time.perf_counter() - start, 1)}))
"""


def write_copies(source: Path, copies: int, household_order: bool, target: Path) -> int:
    """``copies`` copies of ``source`` with suffixed household ids; returns the row count."""
    header, *rows = source.read_text(encoding="utf-8").splitlines()
    by_household = [list(g) for _, g in groupby(rows, key=lambda row: row.split(",", 1)[0])]
    suffixes = [f"_{k:03d}" for k in range(copies)]
    if household_order:
        order = ((group, suffix) for group in by_household for suffix in suffixes)
    else:
        order = ((group, suffix) for suffix in suffixes for group in by_household)
    with target.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for group, suffix in order:
            for row in group:
                household, rest = row.split(",", 1)
                out.write(f"{household}{suffix},{rest}\n")
    return len(rows) * copies


def measure(package: Path, csv_path: Path, scratch: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(package), "ENERGY_FORECAST_DATA_ROOTS": str(scratch)}
    command = ["/usr/bin/time", "-v", sys.executable, "-c", _CHILD, str(csv_path), str(scratch)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert peak_kb, done.stderr
    seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return {"seconds": seconds, "peak_rss_mb": round(int(peak_kb.group(1)) / 1024)}


def old_package(commit: str, target: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "include/energy_forecast"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "include"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--sorted", action="store_true", help="copies in household order")
    parser.add_argument("--old", metavar="COMMIT", help="also measure this commit's code")
    parser.add_argument("--csv", type=Path, default=REAL_CSV)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as folder:
        scratch = Path(folder)
        packages = {"new": REPO / "include"}
        if args.old:
            packages[args.old] = old_package(args.old, scratch / "old")
        for copies in args.copies:
            csv_path = scratch / f"copies-{copies}.csv"
            rows = write_copies(args.csv, copies, args.sorted, csv_path)
            for name, package in packages.items():
                result = measure(package, csv_path, scratch)
                print(json.dumps({"code": name, "copies": copies, "rows": rows, **result}))
            csv_path.unlink()


if __name__ == "__main__":
    main()
