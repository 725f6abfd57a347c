"""After the report: a promotion waits for a person only when the run asks for one, their
answer stays with the run, and a degraded champion is announced, never a healthy one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from energy_forecast.champion.decision import Evidence, PromotionDecision
from energy_forecast.champion.gate import Challenger, GatePolicy, decide
from energy_forecast.monitoring.degradation import Degradation
from energy_forecast.orchestration import tasks
from energy_forecast.paths import RunLayout
from energy_forecast.tracking.runs import DagRunTracker

CHALLENGER = Challenger("lstm", 1.4, 2.0, "kaggle", "2025-04-08")
EVIDENCE = Evidence(1.4, 1.4, "household_mean", 1.4)


def _report(tmp_path: Path, promote: bool) -> dict[str, str]:
    policy = GatePolicy("auto" if promote else "never")
    decision = PromotionDecision(decide(CHALLENGER, None, policy), EVIDENCE)
    assert decision.promote is promote
    return {
        "decision": str(decision.save(tmp_path / "decision.json")),
        "report_html": str(tmp_path / "report.html"),
    }


@pytest.mark.parametrize(
    ("approval", "promote", "next_tasks"),
    [
        ("required", True, ["approve", "publish"]),
        ("required", False, ["publish"]),  # a kept champion needs nobody
        ("none", True, ["publish"]),
    ],
)
def test_a_promotion_waits_for_approval_only_when_the_run_asks_for_it(
    tmp_path: Path, approval: str, promote: bool, next_tasks: list[str]
) -> None:
    report = _report(tmp_path, promote)

    assert tasks.route_promotion({"approval": approval}, report) == next_tasks


def test_an_unknown_approval_mode_is_refused_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="approval"):
        tasks.route_promotion({"approval": "maybe"}, _report(tmp_path, True))


def test_the_approval_request_shows_the_gates_reason_and_the_report(tmp_path: Path) -> None:
    report = _report(tmp_path, True)

    subject, body = tasks.approval_request(report)

    assert "lstm" in subject
    assert PromotionDecision.load(Path(report["decision"])).reason in body
    assert "1.4000 kWh" in body and report["report_html"] in body
    assert "none (first champion)" in body


def test_the_approvers_answer_is_kept_with_the_run_and_its_tracking(artifacts: Path) -> None:
    response = {
        "chosen_options": ["Reject"],
        "params_input": {"comment": "wait for the new meters"},
        "responded_by_user": {"id": "7", "name": "planner"},
        "responded_at": datetime(2025, 4, 9, 8, 30, tzinfo=UTC),
    }

    answer = tasks.record_approval("manual__1", response, try_number=1)

    saved = json.loads(RunLayout.for_run("manual__1").approval.read_text())
    assert saved == answer
    assert answer["approved"] is False and answer["chosen"] == "Reject"
    assert answer["by"] == "planner" and answer["comment"] == "wait for the new meters"
    tracker = DagRunTracker.for_run("manual__1")
    tags = tracker.store.client().get_run(tracker.parent_run_id()).data.tags
    assert tags["approval.by"] == "planner" and tags["approval.approved"] == "false"


def _degradation(tmp_path: Path, degraded: bool) -> dict[str, str]:
    verdict = Degradation(
        "1", ("2025-04-08",), 500, 2.5 if degraded else 1.2, 1.2, 0.25, degraded,
        "realized RMSE 2.5 kWh breaks the promise" if degraded else "within its promise",
    )  # fmt: skip
    return {"degradation": str(verdict.save(tmp_path / "degradation.json"))}


def test_a_degraded_champion_is_announced_with_the_verdict(tmp_path: Path) -> None:
    verdict = tasks.alert_degraded(_degradation(tmp_path, degraded=True))

    assert verdict["degraded"] is True and verdict["champion_version"] == "1"
    assert verdict["realized_rmse_kwh"] == 2.5 and verdict["days"] == ["2025-04-08"]


def test_a_healthy_champion_skips_the_alert_so_no_event_is_sent(tmp_path: Path) -> None:
    with pytest.raises(AirflowSkipException, match="within its promise"):
        tasks.alert_degraded(_degradation(tmp_path, degraded=False))
