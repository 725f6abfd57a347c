"""This checkout against an earlier commit, end to end on the real file, runs alternating.

    .venv/bin/python -m benchmarks.versus [--commit c2fde0d] [--repeats 3] [--old-venv PATH]

The earlier commit is checked out with ``git worktree`` and runs on this checkout's
virtual environment (its package first on ``PYTHONPATH``), so only the code differs. Runs
alternate (old, new, old, new, ...) so that machine noise falls on both; the medians of the
end-to-end wall time and of each task's time, and their ratio, go under ``"versus"`` in
``benchmarks/results.json``.

With ``--old-venv PATH`` the earlier commit runs on that environment instead (its airflow,
spark-submit and Python; ``bin/airflow-local`` takes them from ``VENV``), so that a change
of requirements is part of what is compared, e.g. the ``before`` environment that
``benchmarks.dependencies --keep-venvs DIR`` keeps, installed from the commit's
requirements.txt. Such an environment need not hold the project itself (``PYTHONPATH``
gives the commit's ``include/`` to Airflow, spark-submit and Spark's Python workers). If it
has no Spark class-data archive, one is built first, as ``make install`` does, with the
commit's ``python -m energy_forecast.features.archive_classes``: drivers start without one,
only slower, so leaving it out would bias the comparison against the old side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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
VENV = PROJECT_ROOT / ".venv"
#: Where ``energy_forecast.spark.class_archive`` looks, inside the environment it runs in.
CLASS_ARCHIVE = Path("share") / "energy-forecast" / "spark-driver.jsa"


def _run(tree: Path, venv: Path, csv: Path, root: Path) -> dict:
    env = airflow_env(root, csv.parent)
    env.update(VENV=str(venv), PYTHONPATH=str(tree / "include"))
    conf = {"source": "local", "local_csv_path": str(csv)}
    wall, log = dags_test(tree / "bin" / "airflow-local", env, conf)
    if "state=success" not in log:
        (root / "failed.log").write_text(log)
        # The folder goes with the run's temporary directory: show why it failed.
        print("\n".join(log.splitlines()[-60:]), file=sys.stderr, flush=True)
    return {
        "wall_seconds": round(wall, 1),
        "tasks": task_seconds(log),
        "ok": "state=success" in log,
    }


def ensure_class_archive(venv: Path, tree: Path) -> bool:
    """Build ``venv``'s Spark class-data archive with ``tree``'s code if it has none;
    whether it has one now (the build only warns when it fails)."""
    if not (venv / CLASS_ARCHIVE).is_file():
        env = {**os.environ, "PYTHONPATH": str(tree / "include")}
        subprocess.run(
            [venv / "bin" / "python", "-m", "energy_forecast.features.archive_classes"],
            env=env,
            cwd=tree,
            check=True,
        )
    return (venv / CLASS_ARCHIVE).is_file()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="c2fde0d")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument(
        "--old-venv",
        type=Path,
        metavar="PATH",
        help="run the earlier commit on this virtual environment (default: .venv)",
    )
    args = parser.parse_args()
    old_venv = args.old_venv.resolve() if args.old_venv else VENV
    if not (old_venv / "bin" / "airflow").is_file():
        parser.error(f"{old_venv} has no bin/airflow")
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
            archives = None
            if args.old_venv:
                archives = {
                    "old": ensure_class_archive(old_venv, old_tree),
                    "new": (VENV / CLASS_ARCHIVE).is_file(),
                }
                print("Spark class-data archive:", archives, flush=True)
            runs: dict[str, list[dict]] = {"old": [], "new": []}
            sides = (("old", old_tree, old_venv), ("new", PROJECT_ROOT, VENV))
            for repeat in range(args.repeats):
                for label, tree, venv in sides:
                    run = _run(tree, venv, args.csv.resolve(), Path(tmp) / f"{label}-{repeat}")
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
        "old_venv": str(old_venv),
        "new_venv": str(VENV),
        "class_archives": archives,
        "old": old,
        "new": new,
        "new_over_old_wall": round(new["wall_seconds"] / old["wall_seconds"], 3),
    }
    record_result("versus", versus)
    print(json.dumps({k: v for k, v in versus.items() if k not in ("old", "new")}))


if __name__ == "__main__":
    main()
