"""What a change of requirements costs: install time, footprint and imports, before and after.

    .venv/bin/python -m benchmarks.dependencies [--commit 393034c] [--rounds 2] \\
        [--import-rounds 7] [--keep-venvs DIR]

"Before" is ``git show <commit>:requirements.txt``, "after" this checkout's
requirements.txt. Each round (before, after, before, after, ...) creates a fresh virtual
environment in a temporary folder, upgrades its pip (not timed, as ``make install`` does),
then times ``pip install --quiet -r`` of the file and records the size of site-packages and
the number of installed distributions. The last environment of each side is kept for the
import timings, which alternate too: ``import energy_forecast.orchestration.tasks`` (the
commit's ``include/``, checked out with ``git worktree``, for before; this checkout's for
after), ``import pyspark.sql, pyarrow, pandas``, and, after only, ``import mlflow`` and
``from mlflow import MlflowClient``, each in a new interpreter after one warm-up round that
is not counted. Byte code goes under a per-environment ``PYTHONPYCACHEPREFIX`` (which
the warm-up round fills), so nothing is written into the checkout. Medians, the raw runs
and after/before ratios go under ``"dependencies"`` in ``benchmarks/results.json``.

Installs go through this machine's pip configuration and cache, so they measure a warm
cache once the first round has filled it. With ``--keep-venvs DIR`` the kept environments
are built as ``DIR/before`` and ``DIR/after`` (replacing earlier ones) and survive the run,
e.g. for ``benchmarks.versus --old-venv DIR/before``; everything else is removed whatever
happens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks.benchmark import record_result

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SIDES = ("before", "after")

#: Timed in a new interpreter each: label, code, whether "before" runs it too.
IMPORTS: tuple[tuple[str, str, bool], ...] = (
    ("tasks", "import energy_forecast.orchestration.tasks", True),
    ("spark_arrow_pandas", "import pyspark.sql, pyarrow, pandas", True),
    ("mlflow", "import mlflow", False),
    ("mlflow_client", "from mlflow import MlflowClient", False),
)
#: Which of these the tasks module pulls in, checked once per side.
HEAVY_MODULES = ("airflow", "pyarrow", "pandas", "pyspark", "torch", "xgboost", "mlflow")


@dataclass
class Side:
    """One requirement set, the ``include/`` its code comes from and its kept venv."""

    label: str
    requirements: Path
    include: Path
    venv: Path | None = None
    installs: list[dict] = field(default_factory=list)
    distributions: dict[str, str] = field(default_factory=dict)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def disk_usage_mb(folder: Path) -> float:
    """Space the files under ``folder`` take on disk, each inode once (as ``du``)."""
    seen: set[int] = set()
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            stat = os.lstat(os.path.join(directory, name))
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                total += stat.st_blocks * 512
    return round(total / 2**20, 1)


def installed_distributions(venv: Path) -> dict[str, str]:
    """Name (lower case) to version of every distribution in ``venv``."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    out = subprocess.run([_python(venv), "-c", code], check=True, capture_output=True, text=True)
    return dict(sorted(json.loads(out.stdout).items()))


def install_fresh(side: Side, venv: Path) -> dict:
    """A fresh venv at ``venv`` with ``side``'s requirements: install seconds and footprint."""
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
    pip = [_python(venv), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
    started = time.perf_counter()
    done = subprocess.run(
        [*pip, "install", "--quiet", "-r", side.requirements],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        output = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"pip install for {side.label} failed (rc {done.returncode}):\n{output}")
    distributions = installed_distributions(venv)
    return {
        "seconds": round(seconds, 1),
        "site_packages_mb": disk_usage_mb(_site_packages(venv)),
        "distributions": len(distributions),
        "_distributions": distributions,
    }


def pip_check(venv: Path) -> dict:
    done = subprocess.run(
        [_python(venv), "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    return {"ok": done.returncode == 0, "output": (done.stdout + done.stderr).strip()}


def import_env(side: Side, tmp: Path) -> dict[str, str]:
    """The environment an import runs in: ``side``'s include first on the path, byte code
    and an Airflow home of its own under ``tmp``.

    A ``PYTHONPYCACHEPREFIX`` is also where Python looks for byte code, so the ``.pyc``
    files pip wrote into site-packages are not read: with ``PYTHONDONTWRITEBYTECODE`` set
    too, every import would compile every module from source (``import mlflow`` took 18.6 s
    that way against 3-4 s from byte code). It is dropped, and the warm-up round fills the
    prefix."""
    dropped = ("PYTHONPATH", "PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("AIRFLOW")}
    env.update(
        PYTHONPATH=str(side.include),
        PYTHONPYCACHEPREFIX=str(tmp / f"pycache-{side.label}"),
        AIRFLOW_HOME=str(tmp / f"airflow-{side.label}"),
    )
    return env


def time_import(side: Side, code: str, tmp: Path) -> float:
    """Wall seconds of a new interpreter of ``side``'s venv running ``code``."""
    assert side.venv is not None
    started = time.perf_counter()
    done = subprocess.run(
        [_python(side.venv), "-c", code],
        env=import_env(side, tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{side.label}: {code!r} failed:\n{done.stderr[-3000:]}")
    return round(seconds, 2)


def modules_loaded_by_tasks(side: Side, tmp: Path) -> dict[str, bool]:
    assert side.venv is not None
    code = (
        "import sys, json, energy_forecast.orchestration.tasks; "
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY_MODULES)!r}}}))"
    )
    done = subprocess.run(
        [_python(side.venv), "-c", code],
        env=import_env(side, tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def time_imports(sides: dict[str, Side], rounds: int, tmp: Path) -> dict:
    """One warm-up round, then ``rounds`` rounds alternating the sides, every import each."""
    warm_up: dict[str, dict[str, float]] = {label: {} for label in sides}
    runs: dict[str, dict[str, list[float]]] = {label: {} for label in sides}
    for round_ in range(-1, rounds):
        this_round: dict[str, dict[str, float]] = {label: {} for label in sides}
        for label, side in sides.items():
            for name, code, both in IMPORTS:
                if label == "before" and not both:
                    continue
                seconds = time_import(side, code, tmp)
                this_round[label][name] = seconds
                if round_ < 0:
                    warm_up[label][name] = seconds
                else:
                    runs[label].setdefault(name, []).append(seconds)
        which = "warm-up" if round_ < 0 else f"round {round_}"
        print(f"imports {which}: {json.dumps(this_round)}", flush=True)
    medians = {
        name: {
            label: {
                "median_seconds": round(statistics.median(runs[label][name]), 2),
                "min_seconds": min(runs[label][name]),
                "seconds": runs[label][name],
            }
            for label in sides
            if name in runs[label]
        }
        for name, _, _ in IMPORTS
    }
    for by_side in medians.values():
        if len(by_side) == 2:
            by_side["after_over_before"] = round(
                by_side["after"]["median_seconds"] / by_side["before"]["median_seconds"], 3
            )
    return {"rounds": rounds, "warm_up_seconds": warm_up, **medians}


def distribution_changes(before: dict[str, str], after: dict[str, str]) -> dict:
    return {
        "added": {n: v for n, v in after.items() if n not in before},
        "removed": {n: v for n, v in before.items() if n not in after},
        "changed": {
            n: [before[n], after[n]] for n in before if n in after and before[n] != after[n]
        },
    }


def _install_summary(side: Side) -> dict:
    public = [{k: v for k, v in run.items() if not k.startswith("_")} for run in side.installs]
    return {
        "median_seconds": round(statistics.median(r["seconds"] for r in public), 1),
        "site_packages_mb": public[-1]["site_packages_mb"],
        "distributions": public[-1]["distributions"],
        "runs": public,
    }


def _ratio(after: float, before: float) -> float:
    return round(after / before, 3)


def _print_table(result: dict) -> None:
    install, imports = result["install"], result["imports"]
    rows = [
        ("pip install -r (median s)", install["before"]["median_seconds"]),
        ("site-packages (MB)", install["before"]["site_packages_mb"]),
        ("distributions", install["before"]["distributions"]),
    ]
    keys = ("median_seconds", "site_packages_mb", "distributions")
    lines = [
        (label, str(before), str(install["after"][key]), str(result["after_over_before"][key]))
        for (label, before), key in zip(rows, keys, strict=True)
    ]
    for name, code, _ in IMPORTS:
        entry = imports[name]
        before = entry.get("before", {}).get("median_seconds", "-")
        ratio = entry.get("after_over_before", "new")
        lines.append(
            (f"{code} (median s)", str(before), str(entry["after"]["median_seconds"]), str(ratio))
        )
    header = ("measure", "before", "after", "after/before")
    widths = [max(len(row[i]) for row in (header, *lines)) for i in range(4)]
    for row in (header, *lines):
        print(
            row[0].ljust(widths[0]),
            *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
        )


def _raise_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that the ``finally`` clean-up runs."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default="393034c", help="the 'before' requirements")
    parser.add_argument("--rounds", type=int, default=2, help="alternating installs per side")
    parser.add_argument("--import-rounds", type=int, default=7)
    parser.add_argument(
        "--keep-venvs",
        type=Path,
        metavar="DIR",
        help="keep the last venvs as DIR/before, DIR/after",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.import_rounds < 1:
        parser.error("--rounds and --import-rounds must be at least 1")
    keep = args.keep_venvs.resolve() if args.keep_venvs else None
    if keep:
        for label in SIDES:
            if (keep / label).exists() and not (keep / label / "pyvenv.cfg").is_file():
                parser.error(f"{keep / label} exists and is not a venv; not replacing it")
    _raise_on_sigterm()

    before_commit = _git("rev-parse", "--short", args.commit)
    after_commit = _git("rev-parse", "--short", "HEAD")
    tmp = Path(tempfile.mkdtemp(prefix="energy-forecast-deps-"))
    tree = tmp / "before-tree"
    kept_ok = False
    try:
        _git("worktree", "add", "--detach", str(tree), args.commit)
        sides = {
            "before": Side("before", tree / "requirements.txt", tree / "include"),
            "after": Side("after", PROJECT_ROOT / "requirements.txt", PROJECT_ROOT / "include"),
        }
        started = time.perf_counter()
        for round_ in range(args.rounds):
            last = round_ == args.rounds - 1
            for label, side in sides.items():
                venv = (keep or tmp) / label if last else tmp / f"{label}-{round_}"
                shutil.rmtree(venv, ignore_errors=True)
                run = install_fresh(side, venv)
                side.installs.append(run)
                side.distributions = run["_distributions"]
                public = {k: v for k, v in run.items() if not k.startswith("_")}
                print(f"install round {round_} {label}: {json.dumps(public)}", flush=True)
                if last:
                    side.venv = venv
                else:
                    shutil.rmtree(venv)
        install_wall = time.perf_counter() - started
        checks = {label: pip_check(side.venv) for label, side in sides.items() if side.venv}
        loads = {label: modules_loaded_by_tasks(side, tmp) for label, side in sides.items()}
        started = time.perf_counter()
        imports = time_imports(sides, args.import_rounds, tmp)
        import_wall = time.perf_counter() - started
        kept_ok = True
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)], cwd=PROJECT_ROOT, check=False
        )
        if keep and not kept_ok:
            for label in SIDES:
                shutil.rmtree(keep / label, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)

    install = {label: _install_summary(side) for label, side in sides.items()}
    result = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "before": {
            "commit": before_commit,
            "requirements": f"git show {args.commit}:requirements.txt",
        },
        "after": {
            "commit": after_commit,
            "requirements": "requirements.txt of the checkout",
            "checkout_differs_from_commit": bool(
                _git("status", "--porcelain", "--", "requirements.txt", "include")
            ),
        },
        "rounds": args.rounds,
        "install": install,
        "imports": imports,
        "after_over_before": {
            key: _ratio(install["after"][key], install["before"][key])
            for key in ("median_seconds", "site_packages_mb", "distributions")
        }
        | {
            f"import_{name}": imports[name]["after_over_before"]
            for name, _, both in IMPORTS
            if both
        },
        "tasks_module_loads": loads,
        "pip_check": checks,
        "distribution_changes": distribution_changes(
            sides["before"].distributions, sides["after"].distributions
        ),
        "wall_seconds": {"installs": round(install_wall, 1), "imports": round(import_wall, 1)},
        "kept_venvs": {label: str(keep / label) for label in SIDES} if keep else None,
    }
    record_result("dependencies", result)
    _print_table(result)
    print(json.dumps({k: result[k] for k in ("after_over_before", "distribution_changes")}))


if __name__ == "__main__":
    main()
