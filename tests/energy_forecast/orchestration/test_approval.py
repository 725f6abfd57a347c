"""The approval operator asks with the gate's reasons and keeps every answer, Reject included
(on Reject the operator skips publish by raising, so the answer is kept before that)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from airflow.sdk import DAG

from energy_forecast.orchestration.approval import PromotionApprovalOperator
from energy_forecast.paths import RunLayout


@dataclass
class _Try:
    """The one field of the task instance the operator reads."""

    try_number: int = 1


def _operator() -> PromotionApprovalOperator:
    with DAG("approval_spec", schedule=None, params={"epochs": 3}):
        return PromotionApprovalOperator(task_id="approve", report={})


def test_the_form_holds_only_the_comment_not_the_dags_params() -> None:
    operator = _operator()

    assert list(operator.serialized_params) == ["comment"]
    assert operator.options == ["Approve", "Reject"] and operator.defaults == ["Reject"]


def test_a_rejection_is_recorded_with_its_comment(artifacts: Path) -> None:
    event = {
        "chosen_options": ["Reject"],
        "params_input": {"comment": "the feed looks wrong"},
        "responded_by_user": {"id": "1", "name": "admin"},
        "responded_at": datetime(2025, 4, 9, tzinfo=UTC),
    }

    response = _operator().execute_complete({"run_id": "manual__1", "ti": _Try()}, event)

    assert response["chosen_options"] == ["Reject"]
    saved = json.loads(RunLayout.for_run("manual__1").approval.read_text())
    assert saved["approved"] is False and saved["by"] == "admin"
    assert saved["comment"] == "the feed looks wrong"
