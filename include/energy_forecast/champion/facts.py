"""What the gate, the registry and the tracking record about a DAG run: its input, its data
cut-off and its Params, and the fingerprint that says whether a rerun would change anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Params that steer promotion, not the model: a rerun that only changes them is unchanged.
PROMOTION_PARAMS = frozenset({"promote", "promote_reason"})


@dataclass(frozen=True)
class RunFacts:
    """What the gate and the registry record about this run."""

    run_id: str
    source: str
    input_sha256: str
    cutoff: str | None
    data_last_date: str
    params: Mapping[str, Any]

    def fingerprint(self) -> dict[str, Any]:
        """Input, cut-off and Params: equal fingerprints mean the run would redo the same.

        The cut-off counts as it applies to the data (the last date kept): two runs a day
        apart whose cut-offs both lie after the file's last date train on the same rows.
        """
        params = {k: v for k, v in self.params.items() if k not in PROMOTION_PARAMS}
        return {
            "input_sha256": self.input_sha256,
            "data_last_date": self.data_last_date,
            "params": params,
        }
