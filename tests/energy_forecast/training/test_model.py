"""The hybrid LSTM: every window length gives a finite prediction and trains every weight."""

from __future__ import annotations

import torch

from energy_forecast.settings import TrainSettings
from energy_forecast.training.model import (
    LSTMConfig,
    LSTMRegressor,
    build_model,
    left_align,
    window_lengths,
)

STEPS = 7
CONFIG = LSTMConfig(
    sequence_length=STEPS,
    sequence_features=3,
    static_features=3,
    lstm_hidden_size=8,
    lstm_layers=2,
    static_hidden_size=4,
    head_hidden_size=8,
    dropout=0.1,
)


def _masks_of_every_length() -> torch.Tensor:
    """Row ``n`` has its last ``n`` days real (n = 0..STEPS), plus one row with inner gaps."""
    rows = [[1.0 if day >= STEPS - n else 0.0 for day in range(STEPS)] for n in range(STEPS + 1)]
    rows.append([0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    return torch.tensor(rows)


def test_window_starts_at_the_first_real_day_and_keeps_inner_gaps() -> None:
    mask = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])

    assert window_lengths(mask).tolist() == [3, 0, 4]


def test_left_align_moves_each_window_to_the_front_and_pads_after_it() -> None:
    values = torch.arange(1.0, 5.0).repeat(3, 1).unsqueeze(2)  # days 1..4 in every row
    lengths = torch.tensor([3, 0, 4])

    aligned = left_align(values, lengths).squeeze(2)

    assert aligned.tolist() == [[2.0, 3.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]]


def test_forward_and_backward_over_every_window_length_reach_every_parameter() -> None:
    model = build_model(CONFIG, seed=0)
    mask = _masks_of_every_length()
    sequence = torch.randn(len(mask), STEPS, 3)
    static = torch.randn(len(mask), 3)

    prediction = model(sequence, mask, static)
    prediction.sum().backward()

    assert prediction.shape == (len(mask),)
    assert torch.isfinite(prediction).all()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_a_batch_of_first_days_still_uses_every_parameter() -> None:
    """All-padding batches happen (a household's first day); DDP must not see unused weights."""
    model = build_model(CONFIG, seed=0)
    rows = 4

    model(
        torch.randn(rows, STEPS, 3), torch.zeros(rows, STEPS), torch.randn(rows, 3)
    ).sum().backward()

    assert all(p.grad is not None for p in model.parameters())


def test_without_real_days_the_sequence_values_do_not_matter() -> None:
    model = build_model(CONFIG, seed=0).eval()
    mask = torch.zeros(2, STEPS)
    static = torch.randn(2, 3)

    with torch.no_grad():
        one = model(torch.randn(2, STEPS, 3), mask, static)
        other = model(torch.full((2, STEPS, 3), float("nan")), mask, static)

    torch.testing.assert_close(one, other)


def test_masked_days_are_ignored_whatever_they_hold() -> None:
    model = build_model(CONFIG, seed=0).eval()
    mask = _masks_of_every_length()
    sequence = torch.randn(len(mask), STEPS, 3)
    garbage = torch.where(mask.unsqueeze(2) > 0, sequence, torch.tensor(1e6))
    static = torch.randn(len(mask), 3)

    with torch.no_grad():
        torch.testing.assert_close(model(sequence, mask, static), model(garbage, mask, static))


def test_config_round_trips_through_json_and_rebuilds_the_same_architecture() -> None:
    config = LSTMConfig.from_settings(TrainSettings(lstm_hidden_size=12), STEPS, 3, 3)

    rebuilt = LSTMConfig.from_json(config.to_json())

    assert rebuilt == config
    shapes = {k: v.shape for k, v in LSTMRegressor(rebuilt).state_dict().items()}
    assert shapes == {k: v.shape for k, v in LSTMRegressor(config).state_dict().items()}


def test_same_seed_gives_the_same_initial_weights() -> None:
    one, other = build_model(CONFIG, seed=3), build_model(CONFIG, seed=3)

    for a, b in zip(one.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
