"""Measure the pipeline on the real file: per-task wall time, training throughput, metrics.

Run from the project root after `make install`:

    .venv/bin/python -m benchmarks.benchmark [--csv ../shared/data/household_energy_consumption.csv]

It runs `airflow dags test energy_forecast` once on the file (default Params) in a
throwaway AIRFLOW_HOME and artifacts root, then trains the LSTM on that run's features for a
fixed number of epochs: with 1 process, with 2, and with 2 whose gloo threads keep normal
priority (``realtime_collectives=False``, the behaviour before it existed), in alternation.
To show what limits the 2-vs-1 ratio it also runs two single-process trainings at once (the
same work without DDP's all-reduce) and times one all-reduce of the model's gradients
between 2 processes (collective_latency). Timings on shared machines are noisy: it reports
medians over epochs and over the alternating runs, and ratios measured in the same run, and
writes everything to benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import collective_latency

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = PROJECT_ROOT.parent / "shared" / "data" / "household_energy_consumption.csv"
RESULTS = PROJECT_ROOT / "benchmarks" / "results.json"


def record_result(key: str, value: dict) -> None:
    """Put ``value`` under ``key`` in ``benchmarks/results.json``, keeping the other keys."""
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[key] = value
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")


def median_runs(runs: list[dict]) -> dict:
    """Medians of the wall time and of each task's time over ``runs``, with the runs."""
    tasks = sorted({task for run in runs for task in run["tasks"]})
    return {
        "wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "tasks": {t: statistics.median(r["tasks"].get(t, 0.0) for r in runs) for t in tasks},
        "runs": runs,
    }


_TASK_EVENT = re.compile(
    r"^(\S+?)Z? .*\[DAG TEST\] (starting|end)(?: task)? task_id=(\w+)", re.MULTILINE
)
RUN_END = re.compile(r"DagRun Finished: .*?run_id=(?P<run_id>\S+?), .*?state=(?P<state>\w+)")


def airflow_env(root: Path, data_root: Path) -> dict[str, str]:
    """A throwaway Airflow home, artifacts root and kagglehub cache under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KAGGLE"))}
    env.update(
        AIRFLOW_HOME=str(root / "airflow"),
        ENERGY_FORECAST_ARTIFACTS=str(root / "artifacts"),
        KAGGLEHUB_CACHE=str(root / "kagglehub"),
        ENERGY_FORECAST_DATA_ROOTS=str(data_root),
    )
    return env


def dags_test(
    airflow: Path,
    env: dict[str, str],
    conf: dict,
    on_start: Callable[[int], object] | None = None,
    logical_date: str | None = None,
) -> tuple[float, str]:
    """Migrate the throwaway metadata database, then one ``airflow dags test`` with
    ``conf`` (dated ``logical_date`` if given): its wall seconds and its log. ``on_start``
    gets the process id once it runs."""
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    dated = [logical_date] if logical_date else []
    process = subprocess.Popen(
        [airflow, "dags", "test", "energy_forecast", *dated, "-c", json.dumps(conf)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if on_start:
        on_start(process.pid)
    log, _ = process.communicate()
    return time.perf_counter() - started, log


def task_windows(log: str) -> dict[str, tuple[float, float]]:
    """Each task's start and end (epoch seconds) from the ``[DAG TEST]`` lines."""
    starts: dict[str, float] = {}
    windows: dict[str, tuple[float, float]] = {}
    for stamp, event, task in _TASK_EVENT.findall(log):
        moment = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
        if event == "starting":
            starts[task] = moment
        elif task in starts:
            windows[task] = (starts[task], moment)
    return windows


def task_seconds(log: str) -> dict[str, float]:
    return {task: round(end - begin, 1) for task, (begin, end) in task_windows(log).items()}


def run_dag(csv: Path, root: Path) -> dict:
    """One `airflow dags test` on the file; wall time per task and in total."""
    wall, log = dags_test(
        PROJECT_ROOT / "bin" / "airflow-local",
        airflow_env(root, csv.parent),
        {"source": "local", "local_csv_path": str(csv)},
    )
    state = RUN_END.search(log)
    runs = sorted((root / "artifacts" / "energy_forecast").glob("manual__*"))
    run_dir = runs[-1]
    report = json.loads((run_dir / "report" / "metrics.json").read_text())
    return {
        "state": state.group("state") if state else "unknown",
        "wall_seconds": round(wall, 1),
        "task_seconds": task_seconds(log),
        "run_dir": str(run_dir),
        "metrics": {
            model: {
                split: {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}
                for split, values in entry["splits"].items()
            }
            for model, entry in report["models"].items()
        },
        "champion": report["champion"],
    }


#: The trainings compared, run in this order in every round: name, processes, real-time
#: gloo threads.
TRAININGS = (
    ("1_process", 1, True),
    ("2_processes", 2, True),
    ("2_processes_normal_priority", 2, False),
)


def train_throughput(
    features_manifest: Path, processes: int, epochs: int, output_dir: Path, realtime: bool = True
) -> dict:
    """Median samples/s over epochs (after the first) for a fixed number of epochs."""
    from energy_forecast.settings import TrainSettings
    from energy_forecast.training.train import run_training

    settings = TrainSettings(
        num_processes=processes, epochs=epochs, patience=epochs, realtime_collectives=realtime
    )
    sampler = _PythonChildRss()
    started = time.perf_counter()
    outputs = run_training(settings, features_manifest, output_dir, master_for(processes))
    wall = time.perf_counter() - started
    history = json.loads(Path(outputs["history"]).read_text())
    peak_rss_mb = sampler.stop()
    return {
        "processes": processes,
        "realtime_collectives": realtime,
        "epochs": len(history),
        "median_samples_per_s": round(steady_rate(history), 0),
        "wall_seconds": round(wall, 1),
        "peak_rank_rss_mb": round(peak_rss_mb, 0),
    }


def alternating_throughput(
    features_manifest: Path, epochs: int, root: Path, rounds: int
) -> dict[str, dict]:
    """Every training of :data:`TRAININGS` once per round, in turn; medians over rounds.

    Each run trains from scratch in a folder of its own (a shared one would resume)."""
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in TRAININGS}
    for round_ in range(rounds):
        for name, processes, realtime in TRAININGS:
            output_dir = root / f"lstm-{name}-{round_}"
            runs[name].append(
                train_throughput(features_manifest, processes, epochs, output_dir, realtime)
            )
    return {name: _median_run(results) for name, results in runs.items()}


def _median_run(results: list[dict]) -> dict:
    rates = [result["median_samples_per_s"] for result in results]
    return {
        **{k: results[0][k] for k in ("processes", "realtime_collectives", "epochs")},
        "median_samples_per_s": round(statistics.median(rates), 0),
        "samples_per_s_each_round": rates,
        "wall_seconds": round(statistics.median(r["wall_seconds"] for r in results), 1),
        "peak_rank_rss_mb": max(result["peak_rank_rss_mb"] for result in results),
    }


def steady_rate(history: list[dict]) -> float:
    """Median samples/s over the epochs after the first (which pays for warm-up), or the
    first epoch's when there is only one."""
    rates = [epoch["samples_per_s"] for epoch in history[1:]] or [history[0]["samples_per_s"]]
    return statistics.median(rates)


def independent_throughput(
    features_manifest: Path, processes: int, epochs: int, root: Path
) -> dict:
    """Summed median samples/s of ``processes`` single-process trainings run at once.

    The same per-process work as DDP with as many ranks, without the all-reduce that ties
    their steps together: the ceiling the machine's cores allow for the 2-vs-1 ratio.
    """
    jobs = [
        (str(features_manifest), str(root / f"independent-{i}"), epochs) for i in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        rates = pool.starmap(_single_process_rate, jobs)
    return {
        "processes": processes,
        "median_samples_per_s_each": [round(rate, 0) for rate in rates],
        "median_samples_per_s": round(sum(rates), 0),
    }


def _single_process_rate(features_manifest: str, output_dir: str, epochs: int) -> float:
    """:func:`steady_rate` of one world-of-one training."""
    from energy_forecast.settings import TrainSettings
    from energy_forecast.training.artifacts import read_history
    from energy_forecast.training.entrypoint import train_fn

    settings = TrainSettings(num_processes=1, epochs=epochs, patience=epochs)
    train_fn(features_manifest, output_dir, dataclasses.asdict(settings))
    return steady_rate(read_history(Path(output_dir)))


class _PythonChildRss:
    """Peak resident memory of any one Python child process (the DDP ranks), sampled.

    Once a second: walking the process table costs CPU, and on a 2-core machine where both
    cores run ranks, a frequent sampler slows one rank and with it every all-reduce (at
    0.1 s it cost the 2-process run about a tenth of its throughput). A rank's memory
    settles after its first batches, so a slow sampler still sees the peak.
    """

    def __init__(self, interval: float = 1.0) -> None:
        import psutil

        self._me = psutil.Process()
        self._peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self, interval: float) -> None:
        import psutil

        while not self._done.wait(interval):
            for child in self._me.children(recursive=True):
                try:
                    if "python" in child.name():
                        self._peak = max(self._peak, child.memory_info().rss)
                except psutil.Error:
                    continue

    def stop(self) -> float:
        """Stop sampling; the peak in MiB."""
        self._done.set()
        self._thread.join()
        return self._peak / 2**20


def gradient_elements(features_manifest: Path) -> int:
    """Parameters of the default LSTM on these features: the values DDP all-reduces."""
    from energy_forecast.features.manifest import FeaturesManifest
    from energy_forecast.settings import TrainSettings
    from energy_forecast.training.model import LSTMConfig, build_model

    shape = FeaturesManifest.load(features_manifest).shape
    model = build_model(LSTMConfig.from_settings(TrainSettings(), *shape))
    return sum(parameter.numel() for parameter in model.parameters())


def master_for(processes: int) -> str:
    return f"local[{max(2, processes)}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--epochs", type=int, default=8, help="epochs per throughput run")
    parser.add_argument("--rounds", type=int, default=5, help="alternating training rounds")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "benchmarks" / "results.json")
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"{args.csv} not found: pass --csv with the Kaggle file")

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="energy-forecast-bench-") as tmp:
        root = Path(tmp)
        dag = run_dag(args.csv.resolve(), root)
        manifest = Path(dag["run_dir"]) / "features" / "manifest.json"
        throughput = alternating_throughput(manifest, args.epochs, root, args.rounds)
        independent = independent_throughput(manifest, 2, args.epochs, root)
        all_reduce = collective_latency.measure(gradient_elements(manifest))
    one_process = throughput["1_process"]["median_samples_per_s"]

    def versus_one(samples_per_s: float) -> float:
        return round(samples_per_s / one_process, 2)

    results = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count()},
        "dag": dag,
        "training_throughput": throughput,
        "two_vs_one_process_speedup": versus_one(throughput["2_processes"]["median_samples_per_s"]),
        "two_vs_one_process_speedup_normal_priority": versus_one(
            throughput["2_processes_normal_priority"]["median_samples_per_s"]
        ),
        "two_independent_processes": independent,
        "two_independent_vs_one_process": versus_one(independent["median_samples_per_s"]),
        "gradient_all_reduce": all_reduce,
    }
    existing = json.loads(args.output.read_text()) if args.output.exists() else {}
    args.output.write_text(json.dumps({**existing, **results}, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
