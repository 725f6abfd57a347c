"""A task fails at once on what a retry cannot fix, and is retried on anything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from energy_forecast.champion.decision import Evidence, PromotionDecision
from energy_forecast.champion.gate import Challenger, GatePolicy, Incumbent, decide
from energy_forecast.champion.registry import ChampionMovedError, Registry
from energy_forecast.orchestration import tasks
from energy_forecast.orchestration.failures import fails_fast
from energy_forecast.paths import ARTIFACTS_ENV, DATA_ROOTS_ENV, PathOutsideRootsError
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import TrackingStore


def _register(build) -> None:
    """A version registered as a publish of DAG run ``earlier`` would register it."""
    Registry().register(build, mlflow_run_id=DagRunTracker.for_run("earlier").parent_run_id())


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_store: TrackingStore) -> Path:
    """Artifacts (with a local MLflow store) and data roots under ``tmp_path``."""
    (tmp_path / "data").mkdir()
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path))
    monkeypatch.setenv(DATA_ROOTS_ENV, str(tmp_path / "data"))
    return tmp_path


def test_a_local_csv_outside_the_data_roots_fails_the_download_without_retries(
    roots: Path,
) -> None:
    params = {"source": "local", "local_csv_path": "/etc/passwd"}

    with pytest.raises(AirflowFailException, match="outside the allowed roots") as failure:
        tasks.download("manual__1", params)

    assert isinstance(failure.value.__cause__, PathOutsideRootsError)


def test_a_bad_combination_of_params_fails_without_retries(roots: Path) -> None:
    with pytest.raises(AirflowFailException, match="source='local' needs local_csv_path"):
        tasks.download("manual__1", {"source": "local", "local_csv_path": None})


def test_an_error_a_retry_may_fix_is_left_to_the_retries() -> None:
    @fails_fast
    def flaky() -> None:
        raise ConnectionError("the cluster is restarting")

    with pytest.raises(ConnectionError):
        flaky()


def _report_with(decision: PromotionDecision, root: Path) -> dict[str, str]:
    return {"decision": str(decision.save(root / "decision.json"))}


def test_publish_skips_when_the_decision_keeps_the_champion(roots: Path) -> None:
    keep = PromotionDecision(
        decide(Challenger("lstm", 1.4, 2.0, "kaggle", "2025-04-08"), None, GatePolicy("never")),
        Evidence(1.4, 1.4, "household_mean", 1.4),
    )

    with pytest.raises(AirflowSkipException, match="promote=never"):
        tasks.publish("manual__1", {}, {}, {}, {}, {}, _report_with(keep, roots))


def test_publish_refuses_when_the_champion_moved_after_the_gate(roots: Path) -> None:
    _register(lambda folder: {"model": "lstm", "run_id": "other"})  # now version 1
    promote_over_nothing = PromotionDecision(
        decide(Challenger("lstm", 1.4, 2.0, "kaggle", "2025-04-08"), None, GatePolicy()),
        Evidence(1.4, 1.4, "household_mean", 1.4),
    )
    assert promote_over_nothing.promote

    with pytest.raises(AirflowFailException, match="champion is version 1, not none") as failure:
        tasks.publish("manual__1", {}, {}, {}, {}, {}, _report_with(promote_over_nothing, roots))

    assert isinstance(failure.value.__cause__, ChampionMovedError)


def test_publish_refuses_a_decision_taken_against_another_incumbent(roots: Path) -> None:
    over_version_7 = PromotionDecision(
        decide(
            Challenger("lstm", 1.0, 2.0, "kaggle", "2025-04-08"),
            Incumbent("7", "xgboost", 1.5, "2025-04-08"),
            GatePolicy(),
        ),
        Evidence(1.0, 1.0, "household_mean", 1.0),
    )

    with pytest.raises(AirflowFailException, match="champion is version none, not 7"):
        tasks.publish("manual__1", {}, {}, {}, {}, {}, _report_with(over_version_7, roots))


def test_a_retried_publish_announces_the_version_its_earlier_try_made_live(roots: Path) -> None:
    """The first try registered version 1 and died before Airflow heard of it. The retry
    finds the alias moved, to its own version, and returns it for the Asset event instead of
    failing or publishing twice."""
    ingest = {"source": "kaggle", "input_sha256": "ab12", "cutoff": None, "last_date": "2025-04-08"}
    raw = {"manifest": str(roots / "manifest.json")}
    Path(raw["manifest"]).write_text(json.dumps(ingest))
    facts = tasks.run_facts("manual__1", {}, raw)
    _register(
        lambda folder: {"model": "lstm", "run_id": "manual__1", "fingerprint": facts.fingerprint()}
    )
    over_nothing = PromotionDecision(
        decide(Challenger("lstm", 1.4, 2.0, "kaggle", "2025-04-08"), None, GatePolicy()),
        Evidence(1.4, 1.4, "household_mean", 1.4),
    )

    published = tasks.publish("manual__1", {}, raw, {}, {}, {}, _report_with(over_nothing, roots))

    version = Registry().current()
    assert published["version"] == "1" and published["model_uri"] == "models:/energy_forecast/1"
    assert published["version_dir"] == str(version.path)  # the version's files, not an alias
    assert [v.name for v in Registry().versions()] == ["1"]
