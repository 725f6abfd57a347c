"""The hybrid LSTM: a recurrent branch over the previous days, a dense branch over today.

The recurrent branch reads each row's window from its first real day to the day before the
target, with the mask appended as a fourth input so the network can tell a real day from a
missing one in the middle of the window. Rows without any real previous day (a household's
first day) still get a finite prediction from the static branch alone.

Every parameter takes part in every forward pass, whatever the mask: DDP can then run with
``find_unused_parameters=False`` and never fails on a batch of first days.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Self

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from energy_forecast.settings import TrainSettings


@dataclass(frozen=True)
class LSTMConfig:
    """Everything needed to rebuild an :class:`LSTMRegressor`; stored as ``model_config.json``."""

    sequence_length: int
    sequence_features: int
    static_features: int
    lstm_hidden_size: int = 32
    lstm_layers: int = 1
    static_hidden_size: int = 16
    head_hidden_size: int = 32
    dropout: float = 0.1

    def __post_init__(self) -> None:
        sizes = {k: v for k, v in dataclasses.asdict(self).items() if k != "dropout"}
        too_small = [name for name, value in sizes.items() if value < 1]
        if too_small:
            raise ValueError(f"{too_small} must be >= 1 in {self}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be within [0, 1), got {self.dropout}")

    @classmethod
    def from_settings(
        cls,
        settings: TrainSettings,
        sequence_length: int,
        sequence_features: int,
        static_features: int,
    ) -> Self:
        """The architecture the training settings ask for, on inputs of the given shapes."""
        return cls(
            sequence_length=sequence_length,
            sequence_features=sequence_features,
            static_features=static_features,
            lstm_hidden_size=settings.lstm_hidden_size,
            lstm_layers=settings.lstm_layers,
            static_hidden_size=settings.static_hidden_size,
            head_hidden_size=settings.head_hidden_size,
            dropout=settings.dropout,
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(json.loads(text))


def window_lengths(mask: torch.Tensor) -> torch.Tensor:
    """Steps from each row's first real day to the window's end; 0 when no day is real.

    >>> window_lengths(torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]))
    tensor([3, 0])
    """
    steps = mask.shape[1]
    real = mask > 0
    first_real = torch.where(real.any(dim=1), real.float().argmax(dim=1), steps)
    return steps - first_real


def left_align(values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Shift each row of ``values`` [batch, steps, features] so its window starts at step 0.

    Steps past a row's length become zeros, the padding ``pack_padded_sequence`` skips.
    """
    batch, steps, features = values.shape
    position = torch.arange(steps, device=values.device).unsqueeze(0)
    offset = (steps - lengths).unsqueeze(1)
    source = (position + offset).clamp(max=steps - 1)
    aligned = values.gather(1, source.unsqueeze(2).expand(batch, steps, features))
    keep = (position < lengths.unsqueeze(1)).unsqueeze(2)
    return aligned * keep


class LSTMRegressor(nn.Module):
    """Predicts the scaled target from a masked day sequence and the target day's features."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(
            input_size=config.sequence_features + 1,  # + the mask
            hidden_size=config.lstm_hidden_size,
            num_layers=config.lstm_layers,
            batch_first=True,
            dropout=config.dropout if config.lstm_layers > 1 else 0.0,
        )
        self.static = nn.Sequential(
            nn.Linear(config.static_features, config.static_hidden_size),
            nn.ReLU(),
        )
        self.head = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(config.lstm_hidden_size + config.static_hidden_size, config.head_hidden_size),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.head_hidden_size, 1),
        )

    def forward(
        self, sequence: torch.Tensor, mask: torch.Tensor, static: torch.Tensor
    ) -> torch.Tensor:
        """``sequence`` [B, T, F], ``mask`` [B, T], ``static`` [B, S] -> prediction [B]."""
        real = mask > 0
        # Masked steps carry no information: zero them so padding values (or NaN) never leak.
        steps = torch.cat(
            [torch.where(real.unsqueeze(2), sequence, 0.0), real.to(sequence.dtype).unsqueeze(2)],
            dim=2,
        )
        lengths = window_lengths(mask)
        packed = pack_padded_sequence(
            left_align(steps, lengths),
            lengths.clamp(min=1).cpu(),
            batch_first=True,
            enforce_sorted=False,
        )
        _, (hidden, _) = self.lstm(packed)
        # A row with no real day ran one all-zero step through the LSTM only so that every
        # parameter stays in the graph; its recurrent summary is then dropped.
        recurrent = hidden[-1] * (lengths > 0).to(hidden.dtype).unsqueeze(1)
        features = torch.cat([recurrent, self.static(static)], dim=1)
        return self.head(features).squeeze(1)


def build_model(config: LSTMConfig, seed: int | None = None) -> LSTMRegressor:
    """A freshly initialised model; the same seed gives the same weights on every rank."""
    if seed is not None:
        torch.manual_seed(seed)
    return LSTMRegressor(config)
