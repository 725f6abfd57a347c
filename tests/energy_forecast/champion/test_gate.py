"""The promotion gate, rule by rule, in the order it applies them."""

from __future__ import annotations

import pytest

from energy_forecast.champion.gate import Challenger, GatePolicy, Incumbent, decide

GOOD = Challenger("lstm", 1.40, 2.03, "kaggle", "2025-04-08")
INCUMBENT = Incumbent("v0001", "xgboost", 1.43, "2025-04-08")


def test_a_first_challenger_that_beats_persistence_is_promoted() -> None:
    decision = decide(GOOD, None, GatePolicy())

    assert decision.promote and "no incumbent" in decision.reason


def test_a_challenger_better_by_the_margin_replaces_the_incumbent() -> None:
    decision = decide(GOOD, INCUMBENT, GatePolicy(margin_kwh=0.01))

    assert decision.promote
    assert "1.4000 kWh vs incumbent v0001 (xgboost) 1.4300 kWh" in decision.reason


def test_a_challenger_within_the_margin_keeps_the_incumbent() -> None:
    level = Challenger("xgboost", 1.425, 2.03, "kaggle", "2025-04-08")

    decision = decide(level, INCUMBENT, GatePolicy(margin_kwh=0.01))

    assert not decision.promote and "the incumbent stays" in decision.reason


def test_a_challenger_no_better_than_persistence_is_never_promoted() -> None:
    weak = Challenger("lstm", 2.10, 2.03, "kaggle", "2025-04-08")

    assert not decide(weak, None, GatePolicy()).promote


def test_never_keeps_even_a_better_challenger() -> None:
    assert not decide(GOOD, INCUMBENT, GatePolicy(mode="never")).promote


def test_force_promotes_a_worse_challenger_and_records_why() -> None:
    weak = Challenger("lstm", 2.10, 2.03, "kaggle", "2025-04-08")

    decision = decide(weak, INCUMBENT, GatePolicy(mode="force", force_reason="rollback test"))

    assert decision.promote and decision.reason == "promote=force: rollback test"


@pytest.mark.parametrize("mode", ["auto", "force"])
def test_synthetic_data_never_promotes_unless_allowed(mode: str) -> None:
    synthetic = Challenger("lstm", 1.0, 2.0, "synthetic", "2025-04-08")
    policy = GatePolicy(mode=mode, force_reason="x")

    assert not decide(synthetic, None, policy).promote
    assert decide(synthetic, None, GatePolicy(mode=mode, allow_synthetic=True)).promote


@pytest.mark.parametrize("mode", ["auto", "force"])
def test_data_older_than_the_incumbents_never_replaces_it(mode: str) -> None:
    older = Challenger("lstm", 1.0, 2.0, "kaggle", "2025-04-05")

    decision = decide(older, INCUMBENT, GatePolicy(mode=mode, force_reason="x"))

    assert not decision.promote and "before the incumbent v0001" in decision.reason


def test_the_decision_serialises_with_its_numbers() -> None:
    record = decide(GOOD, INCUMBENT, GatePolicy()).as_dict()

    assert record["promote"] is True
    assert record["incumbent"]["test_rmse"] == 1.43
    assert record["policy"]["margin_kwh"] == 0.01


def test_a_degraded_incumbent_is_replaced_without_the_margin() -> None:
    level = Challenger("xgboost", 1.425, 2.03, "kaggle", "2025-04-08")
    degraded = Incumbent("v0001", "xgboost", 1.43, "2025-04-08", True, "realized 2.9 kWh")

    decision = decide(level, degraded, GatePolicy(margin_kwh=0.01))

    assert decision.promote
    assert "incumbent is degraded" in decision.reason and "realized 2.9 kWh" in decision.reason


def test_a_degraded_incumbent_still_needs_a_challenger_that_beats_persistence() -> None:
    weak = Challenger("lstm", 2.10, 2.03, "kaggle", "2025-04-08")
    degraded = Incumbent("v0001", "xgboost", 1.43, "2025-04-08", True, "realized 2.9 kWh")

    decision = decide(weak, degraded, GatePolicy())

    assert not decision.promote and "does not beat persistence" in decision.reason
