"""Dealing row groups to shards: balanced, repeatable, and equal in batch counts."""

from __future__ import annotations

import numpy as np

from energy_forecast.features.arrays import RowGroup
from energy_forecast.training.sharding import assign_row_groups, batches_per_shard, split_evenly


def test_assignment_balances_rows_and_is_the_same_for_every_caller() -> None:
    groups = [RowGroup("f", i, rows) for i, rows in enumerate([50, 13, 7, 31, 20, 9, 40])]

    shards = assign_row_groups(groups, 4, np.random.default_rng([7, 1]))
    again = assign_row_groups(groups, 4, np.random.default_rng([7, 1]))

    assert shards == again
    assert sorted(g for s in shards for g in s) == sorted(groups)
    loads = [sum(g.rows for g in s) for s in shards]
    assert max(loads) - min(loads) <= max(g.rows for g in groups)


def test_every_shard_yields_the_same_number_of_nearly_equal_batches() -> None:
    assert split_evenly(10, 3) == [4, 3, 3]
    assert batches_per_shard([50, 45, 44, 31], batch_size=16) == 4
    # A shard smaller than the batch count the largest needs: batches grow instead.
    assert batches_per_shard([100, 3], batch_size=10) == 3
