"""The promotion decision as one typed file: written once by the report task, read by publish.

The gate's verdict and the numbers behind it travel together, so publish never re-derives
or re-parses them: it loads this file and either publishes what it names or skips.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Self

from energy_forecast.champion.gate import Challenger, GateDecision, GatePolicy, Incumbent
from energy_forecast.runtime.atomic import write_text

TemperatureSource = Literal["forecast_table", "household_mean"]


@dataclass(frozen=True)
class Evidence:
    """What the gate was shown beyond the report's comparison, in kWh."""

    served_test_rmse: float  # the challenger with the temperatures a forecast can know
    actual_temperature_test_rmse: float  # the same rows with the day's actual temperature
    temperature_source: TemperatureSource
    val_rmse: float


@dataclass(frozen=True)
class PromotionDecision:
    """The gate's decision on this run's challenger and the evidence it was taken on."""

    gate: GateDecision
    evidence: Evidence

    @property
    def promote(self) -> bool:
        return self.gate.promote

    @property
    def reason(self) -> str:
        return self.gate.reason

    @property
    def model(self) -> str:
        """The challenger's model kind (``lstm`` or ``xgboost``)."""
        return self.gate.challenger.model

    @property
    def incumbent_version(self) -> str | None:
        """The champion version the challenger was weighed against, if there was one."""
        return self.gate.incumbent.version if self.gate.incumbent else None

    def as_dict(self) -> dict[str, Any]:
        return {"gate": asdict(self.gate), "evidence": asdict(self.evidence)}

    def save(self, path: Path) -> Path:
        return write_text(Path(path), json.dumps(self.as_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Self:
        raw = json.loads(Path(path).read_text())
        gate = raw["gate"]
        incumbent = gate["incumbent"]
        return cls(
            gate=GateDecision(
                promote=gate["promote"],
                reason=gate["reason"],
                challenger=Challenger(**gate["challenger"]),
                incumbent=Incumbent(**incumbent) if incumbent else None,
                policy=GatePolicy(**gate["policy"]),
            ),
            evidence=Evidence(**raw["evidence"]),
        )
