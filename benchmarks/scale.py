"""The whole DAG at 1x, 10x and 100x the real file: wall time and peak memory per task.

    .venv/bin/python -m benchmarks.scale [--factors 1 10 100] [--csv ../shared/data/...]

Each copy repeats every household of the real file under a suffix (``H00001-3``), so the
columns and the per-household history stay realistic while rows and households grow. Each
copy runs through ``airflow dags test`` (``source=local``) in a throwaway Airflow home; at 100x
training is cut to 1 epoch and 20 trees to bound the time. A sampler reads the resident
memory of the ``dags test`` process and every descendant (Spark JVMs, training ranks) twice
a second; each task gets the largest single process and the largest total seen while it
ran. Results go under ``"scale"`` in ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

from benchmarks.benchmark import RUN_END, airflow_env, dags_test, task_windows

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = PROJECT_ROOT.parent / "shared" / "data" / "household_energy_consumption.csv"
RESULTS = PROJECT_ROOT / "benchmarks" / "results.json"
#: Training kept short at 100x so the run ends in minutes, not hours.
_BOUNDED = {"epochs": 1, "patience": 1, "xgb_n_estimators": 20}


def build_copy(source: Path, factor: int, target: Path) -> Path:
    """``factor`` copies of every row, households renamed ``<id>-<k>`` for copies k >= 1."""
    with source.open() as lines, target.open("w") as out:
        header = next(lines)
        out.write(header)
        rows = lines.readlines()
        for copy in range(factor):
            suffix = "" if copy == 0 else f"-{copy}"
            for row in rows:
                household, rest = row.split(",", 1)
                out.write(f"{household}{suffix},{rest}")
    return target


class _TreeSampler:
    """Resident memory of a process and its descendants over time."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.samples: list[tuple[float, int, int]] = []  # (time, largest process, total)
        self._root = psutil.Process(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._done.wait(interval):
            sizes = []
            try:
                processes = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                continue
            for process in processes:
                try:
                    sizes.append(process.memory_info().rss)
                except psutil.Error:
                    continue
            if sizes:
                self.samples.append((time.time(), max(sizes), sum(sizes)))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def run_dag(csv: Path, root: Path, conf: dict) -> dict:
    samplers: list[_TreeSampler] = []
    wall, log = dags_test(
        PROJECT_ROOT / "bin" / "airflow-local",
        airflow_env(root, csv.parent),
        conf,
        on_start=lambda pid: samplers.append(_TreeSampler(pid)),
    )
    sampler = samplers[0]
    sampler.stop()
    state = RUN_END.search(log)
    tasks = {}
    for task, (begin, end) in task_windows(log).items():
        during = [s for s in sampler.samples if begin <= s[0] <= end] or [(0, 0, 0)]
        tasks[task] = {
            "seconds": round(end - begin, 1),
            "peak_process_rss_mb": round(max(s[1] for s in during) / 2**20),
            "peak_total_rss_mb": round(max(s[2] for s in during) / 2**20),
        }
    if not state or state.group("state") != "success":
        (root / "failed.log").write_text(log)
    return {
        "state": state.group("state") if state else "unknown",
        "wall_seconds": round(wall, 1),
        "peak_process_rss_mb": round(max((s[1] for s in sampler.samples), default=0) / 2**20),
        "tasks": tasks,
    }


def markdown_table(runs: dict) -> str:
    """The README's table: per task, wall seconds / largest single-process RSS, per factor."""
    factors = list(runs)
    tasks = list(next(iter(runs.values()))["tasks"])
    lines = [
        "| task | " + " | ".join(f"{runs[f]['rows']:,} rows ({f})" for f in factors) + " |",
        "|---|" + "---:|" * len(factors),
    ]
    for task in tasks:
        cells = []
        for factor in factors:
            measured = runs[factor]["tasks"].get(task)
            if not measured:
                cells.append("-")
                continue
            memory = measured["peak_process_rss_mb"]  # 0: ended before the first sample
            cells.append(f"{measured['seconds']} s / " + (f"{memory:,} MB" if memory else "-"))
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    lines.append(
        "| **whole DAG** | "
        + " | ".join(
            f"**{runs[f]['wall_seconds']} s / {runs[f]['peak_process_rss_mb']:,} MB** "
            f"({runs[f]['state']})"
            for f in factors
        )
        + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--keep", type=Path, help="keep copies and runs in this folder")
    parser.add_argument(
        "--table", action="store_true", help="print the last results as a Markdown table"
    )
    args = parser.parse_args()
    if args.table:
        print(markdown_table(json.loads(RESULTS.read_text())["scale"]["runs"]))
        return
    if not args.csv.exists():
        sys.exit(f"{args.csv} not found: pass --csv with the Kaggle file")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    results = {}
    with tempfile.TemporaryDirectory(prefix="energy-forecast-scale-") as tmp:
        base = args.keep or Path(tmp)
        for factor in args.factors:
            folder = base / f"x{factor}"
            (folder / "data").mkdir(parents=True, exist_ok=True)
            csv = build_copy(args.csv, factor, folder / "data" / f"energy_x{factor}.csv")
            conf = {"source": "local", "local_csv_path": str(csv)}
            if factor >= 100:
                conf.update(_BOUNDED)
            run = run_dag(csv, folder, conf)
            results[f"x{factor}"] = {
                "rows": 90_000 * factor,
                "measured_at": datetime.now().isoformat(timespec="seconds"),
                "conf": conf,
                **run,
            }
            print(json.dumps({f"x{factor}": results[f"x{factor}"]}, indent=2), flush=True)

    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    # Factors not run this time keep their earlier runs, each with its own date.
    earlier = existing.get("scale", {}).get("runs", {})
    existing["scale"] = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30),
        },
        "runs": {**earlier, **results},
    }
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")
    print(markdown_table(results))


if __name__ == "__main__":
    main()
