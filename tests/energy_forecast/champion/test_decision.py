"""The promotion decision is one typed file: what the report task writes, publish reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from energy_forecast.champion.decision import Evidence, PromotionDecision
from energy_forecast.champion.gate import Challenger, GatePolicy, Incumbent, decide

CHALLENGER = Challenger("xgboost", 1.40, 2.03, "kaggle", "2025-04-08")
INCUMBENT = Incumbent("v0001", "lstm", 1.43, "2025-04-08")
EVIDENCE = Evidence(
    served_test_rmse=1.41,
    actual_temperature_test_rmse=1.40,
    temperature_source="household_mean",
    val_rmse=1.38,
)


def _decision(incumbent: Incumbent | None, policy: GatePolicy) -> PromotionDecision:
    return PromotionDecision(decide(CHALLENGER, incumbent, policy), EVIDENCE)


@pytest.mark.parametrize(
    ("incumbent", "policy"),
    [
        (INCUMBENT, GatePolicy(margin_kwh=0.01)),
        (None, GatePolicy(mode="never")),
        (INCUMBENT, GatePolicy(mode="force", force_reason="a new feed")),
    ],
    ids=["promote-over-incumbent", "never", "force"],
)
def test_a_saved_decision_loads_back_equal(
    tmp_path: Path, incumbent: Incumbent | None, policy: GatePolicy
) -> None:
    decision = _decision(incumbent, policy)

    loaded = PromotionDecision.load(decision.save(tmp_path / "decision.json"))

    assert loaded == decision


def test_the_file_keeps_numbers_as_numbers_and_the_verdict_as_a_boolean(tmp_path: Path) -> None:
    path = _decision(INCUMBENT, GatePolicy()).save(tmp_path / "decision.json")

    raw = json.loads(path.read_text())

    assert raw["gate"]["promote"] is True
    assert raw["gate"]["incumbent"]["test_rmse"] == 1.43
    assert raw["evidence"]["served_test_rmse"] == 1.41


def test_publish_reads_what_the_gate_decided_about_whom() -> None:
    decision = _decision(INCUMBENT, GatePolicy())

    assert (decision.promote, decision.model, decision.incumbent_version) == (
        True,
        "xgboost",
        "v0001",
    )
    assert _decision(None, GatePolicy()).incumbent_version is None
