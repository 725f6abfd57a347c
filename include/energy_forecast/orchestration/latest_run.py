"""Print where the newest run's results are: ``python -m energy_forecast.orchestration.latest_run``.

``make run`` ends with this so the person who ran it knows which file to open.
"""

from __future__ import annotations

from pathlib import Path

from energy_forecast.paths import DAG_ID, RESERVED_FOLDERS, RunLayout, artifacts_root


def latest_run(root: Path | None = None) -> RunLayout | None:
    """The most recently modified run folder, if any run has written one.

    Reserved folders are not runs, though they are often the newest: the report task writes
    to MLflow after its run's folder. Hidden folders are being staged.
    """
    runs_dir = (root or artifacts_root()) / DAG_ID
    runs = [
        p
        for p in runs_dir.glob("*")
        if p.is_dir() and not p.name.startswith(".") and p.name not in RESERVED_FOLDERS
    ]
    return RunLayout(max(runs, key=lambda p: p.stat().st_mtime)) if runs else None


def main() -> None:
    layout = latest_run()
    if layout is None:
        print(f"no run found under {artifacts_root() / DAG_ID}")
        return
    print(f"run folder: {layout.run_dir}")
    if not layout.report_html.exists():
        print(f"report: not written (expected at {layout.report_html}; see the task logs)")
    for label, path in [
        ("report", layout.report_html),
        ("metrics", layout.report_dir / "metrics.json"),
        ("features", layout.features_manifest),
        ("validated data", layout.validated),
    ]:
        if path.exists():
            print(f"{label}: {path}")


if __name__ == "__main__":
    main()
