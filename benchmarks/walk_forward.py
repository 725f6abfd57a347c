"""A walk-forward on the real file: one dated run per day, as a daily schedule would make them.

Run from the project root after ``make install``:

    .venv/bin/python -m benchmarks.walk_forward [--start 2025-04-04 --end 2025-04-08]

Each run ``airflow dags test energy_forecast <day>`` sees the rows dated before ``day`` (the
data interval's end cuts the rest off), gates its challenger against the champion, and
forecasts ``day`` for every household with the champion. The next run's data holds that day's
actuals, so it measures the forecasts published the day before (realized accuracy). All runs
share one throwaway Airflow home, artifacts root and MLflow store. The table printed at the
end, and written to ``benchmarks/results.json`` under ``walk_forward``, is read from what the
runs left behind: each run's decision, the daily forecast tables and each report's
``realized_accuracy.csv``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from benchmarks.benchmark import (
    DEFAULT_CSV,
    PROJECT_ROOT,
    RUN_END,
    airflow_env,
    dags_test,
    record_result,
)
from energy_forecast.paths import safe_run_id

_MEASURES = ("n", "mae_kwh", "rmse_kwh", "bias_kwh", "coverage_80", "coverage_95")


def run_days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def summarize(artifacts: Path, day: str, run_id: str, state: str, wall: float) -> dict:
    """One row of the table from the files the run for ``day`` left behind."""
    run_dir = artifacts / "energy_forecast" / safe_run_id(run_id)
    row: dict = {"run_date": day, "state": state, "wall_s": round(wall, 1)}
    decision = run_dir / "decision.json"
    if decision.exists():
        gate = json.loads(decision.read_text())["gate"]
        row |= {"promoted": gate["promote"], "gate": gate["reason"]}
    table = artifacts / "energy_forecast" / "forecasts" / f"date={day}" / "forecasts.parquet"
    if table.exists():
        forecasts = pd.read_parquet(table)
        row |= {
            "champion_version": str(forecasts["champion_version"].iloc[0]),
            "forecast_day": day,
            "forecast_rows": int((forecasts["status"] == "forecast").sum()),
        }
    realized = run_dir / "report" / "realized_accuracy.csv"
    previous = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    if realized.exists():
        series = pd.read_csv(realized, dtype={"champion_version": str})
        measured = series[series["date"] == previous]
        if not measured.empty:
            last = measured.iloc[-1]
            row["realized_previous_day"] = {
                "day": previous,
                "champion_version": last["champion_version"],
                **{key: round(float(last[key]), 4) for key in _MEASURES},
            }
    degradation = run_dir / "report" / "degradation.json"
    if degradation.exists():
        row["degraded"] = json.loads(degradation.read_text())["degraded"]
    return row


def print_table(rows: list[dict]) -> None:
    print(
        "run date   | state   | promoted | champion | forecast rows | previous day: "
        "n, RMSE kWh, cov 80%, cov 95% | degraded | wall s"
    )
    for row in rows:
        previous = row.get("realized_previous_day")
        realized = (
            f"{previous['day']} v{previous['champion_version']}: {previous['n']:.0f}, "
            f"{previous['rmse_kwh']:.3f}, {previous['coverage_80']:.3f}, "
            f"{previous['coverage_95']:.3f}"
            if previous
            else "-"
        )
        print(
            f"{row['run_date']} | {row['state']:<7} | {row.get('promoted', '-')!s:<8} | "
            f"{row.get('champion_version', '-'):<8} | {row.get('forecast_rows', 0):>13} | "
            f"{realized} | {row.get('degraded', '-')} | {row['wall_s']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 4, 4))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 4, 8))
    args = parser.parse_args()
    csv = args.csv.resolve()
    conf = {"source": "local", "local_csv_path": str(csv)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="energy-forecast-walk-forward-") as scratch:
        root = Path(scratch)
        env = airflow_env(root, csv.parent)
        for day in run_days(args.start, args.end):
            wall, log = dags_test(PROJECT_ROOT / "bin" / "airflow-local", env, conf, None, day)
            match = RUN_END.search(log)
            if not match:
                raise SystemExit(f"run for {day} left no DagRun end in its log:\n{log[-5000:]}")
            rows.append(summarize(root / "artifacts", day, *match.group("run_id", "state"), wall))
            print(json.dumps(rows[-1]), flush=True)
    print_table(rows)
    record_result("walk_forward", {"csv": csv.name, "runs": rows})


if __name__ == "__main__":
    main()
