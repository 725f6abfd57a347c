"""This checkout against an earlier commit, end to end on the real file, runs alternating.

    .venv/bin/python -m benchmarks.versus [--commit c2fde0d] [--repeats 3]

The earlier commit is checked out with ``git worktree`` and runs on this checkout's
virtual environment (its package first on ``PYTHONPATH``), so only the code differs. Runs
alternate (old, new, old, new, ...) so that machine noise falls on both; the medians of the
end-to-end wall time and of each task's time, and their ratio, go under ``"versus"`` in
``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from benchmarks.benchmark import (
    DEFAULT_CSV,
    airflow_env,
    dags_test,
    median_runs,
    record_result,
    task_seconds,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _run(tree: Path, csv: Path, root: Path) -> dict:
    env = airflow_env(root, csv.parent)
    env.update(VENV=str(PROJECT_ROOT / ".venv"), PYTHONPATH=str(tree / "include"))
    conf = {"source": "local", "local_csv_path": str(csv)}
    wall, log = dags_test(tree / "bin" / "airflow-local", env, conf)
    if "state=success" not in log:
        (root / "failed.log").write_text(log)
    return {
        "wall_seconds": round(wall, 1),
        "tasks": task_seconds(log),
        "ok": "state=success" in log,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="c2fde0d")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    with tempfile.TemporaryDirectory(prefix="energy-forecast-versus-") as tmp:
        old_tree = Path(tmp) / "old"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(old_tree), args.commit],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
        try:
            runs: dict[str, list[dict]] = {"old": [], "new": []}
            for repeat in range(args.repeats):
                for label, tree in (("old", old_tree), ("new", PROJECT_ROOT)):
                    run = _run(tree, args.csv.resolve(), Path(tmp) / f"{label}-{repeat}")
                    runs[label].append(run)
                    print(label, repeat, run["wall_seconds"], run["ok"], flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old_tree)],
                cwd=PROJECT_ROOT,
                check=False,
            )
    old, new = median_runs(runs["old"]), median_runs(runs["new"])
    versus = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "commit": args.commit,
        "repeats": args.repeats,
        "old": old,
        "new": new,
        "new_over_old_wall": round(new["wall_seconds"] / old["wall_seconds"], 3),
    }
    record_result("versus", versus)
    print(json.dumps({k: v for k, v in versus.items() if k not in ("old", "new")}))


if __name__ == "__main__":
    main()
