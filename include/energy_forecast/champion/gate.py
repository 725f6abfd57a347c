"""Whether a run's challenger replaces the current champion: one pure decision.

Both models are scored on the same latest held-out rows (the challenger's test split; the
incumbent re-scored there with its own PipelineModel), so the comparison is like for like.
Validation RMSE of the two model types differs by noise alone on this data (0.002 kWh), so a
margin keeps the champion from flipping every day. The rules, first match wins:

1. ``promote=never``: keep (an experiment).
2. Synthetic training data: keep, unless explicitly allowed.
3. Data that ends before the incumbent's: keep, even when forced (a rerun of an old date
   or a backfill must not roll the champion back).
4. ``promote=force``: promote, with the reason given.
5. Not better than persistence on the test rows: keep.
6. No incumbent: promote.
7. The incumbent is degraded (its published forecasts' realized error broke its promise,
   :mod:`energy_forecast.monitoring.degradation`): promote, without the margin.
8. Better than the incumbent by at least the margin: promote; otherwise keep.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from energy_forecast.settings import PromoteMode, PublishSettings


@dataclass(frozen=True)
class Challenger:
    """This run's best trained model, as the report scored it."""

    model: str
    test_rmse: float
    persistence_test_rmse: float
    source: str
    data_last_date: str  # ISO date of the newest row the run trained and tested on


@dataclass(frozen=True)
class Incumbent:
    """The current champion, re-scored on the challenger's test rows."""

    version: str
    model: str
    test_rmse: float
    data_last_date: str
    degraded: bool = False
    degraded_reason: str = ""


_DEFAULTS = PublishSettings()


@dataclass(frozen=True)
class GatePolicy:
    """The run's promotion Params, as the rules read them (defaults from ``settings``)."""

    mode: PromoteMode = _DEFAULTS.promote
    margin_kwh: float = _DEFAULTS.promotion_margin_kwh
    allow_synthetic: bool = _DEFAULTS.allow_synthetic_promotion
    force_reason: str | None = _DEFAULTS.promote_reason

    @classmethod
    def from_settings(cls, settings: PublishSettings) -> GatePolicy:
        return cls(
            settings.promote,
            settings.promotion_margin_kwh,
            settings.allow_synthetic_promotion,
            settings.promote_reason,
        )


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    challenger: Challenger
    incumbent: Incumbent | None
    policy: GatePolicy

    def as_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reason": self.reason,
            "challenger_model": self.challenger.model,
            "challenger_test_rmse": self.challenger.test_rmse,
            "persistence_test_rmse": self.challenger.persistence_test_rmse,
            "incumbent": asdict(self.incumbent) if self.incumbent else None,
            "policy": asdict(self.policy),
        }


def decide(challenger: Challenger, incumbent: Incumbent | None, policy: GatePolicy) -> GateDecision:
    """Apply the rules of the module docstring, in order; the reason carries the numbers."""

    def verdict(promote: bool, reason: str) -> GateDecision:
        return GateDecision(promote, reason, challenger, incumbent, policy)

    c = challenger
    if policy.mode == "never":
        return verdict(False, "promote=never: an experiment, the champion is left alone")
    if c.source == "synthetic" and not policy.allow_synthetic:
        return verdict(
            False,
            "trained on synthetic data, and allow_synthetic_promotion is off; a synthetic "
            "model never replaces the champion by accident",
        )
    if incumbent and c.data_last_date < incumbent.data_last_date:
        return verdict(
            False,
            f"this run's data ends {c.data_last_date}, before the incumbent "
            f"{incumbent.version}'s ({incumbent.data_last_date}); an older cut never "
            "replaces a newer one",
        )
    if policy.mode == "force":
        return verdict(True, f"promote=force: {policy.force_reason}")
    if not c.test_rmse < c.persistence_test_rmse:
        return verdict(
            False,
            f"{c.model} test RMSE {c.test_rmse:.4f} kWh does not beat persistence "
            f"({c.persistence_test_rmse:.4f} kWh)",
        )
    if incumbent is None:
        return verdict(True, f"no incumbent; {c.model} beats persistence")
    if incumbent.degraded:
        return verdict(
            True,
            f"{c.model} beats persistence ({c.test_rmse:.4f} vs "
            f"{c.persistence_test_rmse:.4f} kWh) and the incumbent is degraded, so no margin "
            f"is asked: {incumbent.degraded_reason}",
        )
    gain = incumbent.test_rmse - c.test_rmse
    comparison = (
        f"{c.model} test RMSE {c.test_rmse:.4f} kWh vs incumbent {incumbent.version} "
        f"({incumbent.model}) {incumbent.test_rmse:.4f} kWh on the same rows: "
        f"{gain:+.4f} kWh better, margin {policy.margin_kwh:.4f}"
    )
    if gain >= policy.margin_kwh:
        return verdict(True, comparison)
    return verdict(False, f"{comparison}; the incumbent stays")
