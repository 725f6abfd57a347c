"""How row groups are dealt to training shards and ranks, without torch.

The train task's own process checks a split can be sharded before it launches the ranks;
it never trains, so it must not pay for importing torch. The ranks' datasets
(:mod:`energy_forecast.training.dataset`) deal their row groups with the same functions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from energy_forecast.features.arrays import RowGroup

log = logging.getLogger(__name__)


def assign_row_groups(
    groups: Sequence[RowGroup], num_shards: int, rng: np.random.Generator | None = None
) -> list[list[RowGroup]]:
    """Deal row groups to ``num_shards`` shards, balancing their row counts.

    Largest group first to the least loaded shard (ties: lowest shard index). With ``rng``
    the groups are shuffled first, so equal-sized groups land on different shards and in a
    different order each epoch; the result depends only on the inputs, so every rank and
    worker computing it gets the same assignment.
    """
    if num_shards < 1:
        raise ValueError("num_shards must be >= 1")
    order = list(groups)
    if rng is not None:
        order = [order[i] for i in rng.permutation(len(order))]
    order.sort(key=lambda g: -g.rows)  # stable: equal sizes keep the shuffled order
    shards: list[list[RowGroup]] = [[] for _ in range(num_shards)]
    loads = [0] * num_shards
    for group in order:
        target = min(range(num_shards), key=lambda s: (loads[s], s))
        shards[target].append(group)
        loads[target] += group.rows
    return shards


def split_evenly(rows: int, parts: int) -> list[int]:
    """``parts`` sizes adding up to ``rows`` that differ by at most one, larger first."""
    base, extra = divmod(rows, parts)
    return [base + 1] * extra + [base] * (parts - extra)


def batches_per_shard(shard_rows: Sequence[int], batch_size: int) -> int:
    """How many batches each shard yields so that all yield the same number.

    Enough for the largest shard to keep batches within ``batch_size``; if the smallest shard
    has fewer rows than that, the smallest shard's row count wins (a batch may then exceed
    ``batch_size`` in larger shards) and a warning suggests smaller row groups.
    """
    if min(shard_rows) < 1:
        raise ValueError(
            f"{len(shard_rows)} training shards (ranks x loader workers) but only "
            f"{sum(1 for r in shard_rows if r)} received rows: write the training split "
            "with more, smaller row groups (FeatureSettings.rows_per_row_group) or use "
            "fewer processes or loader workers"
        )
    wanted = math.ceil(max(shard_rows) / batch_size)
    if min(shard_rows) < wanted:
        log.warning(
            "training shards are unbalanced (%d to %d rows): batches of up to %d rows instead "
            "of %d; write smaller row groups to fix this",
            min(shard_rows),
            max(shard_rows),
            math.ceil(max(shard_rows) / min(shard_rows)),
            batch_size,
        )
        return min(shard_rows)
    return wanted


def check_shardable(row_groups: int, world_size: int, num_workers: int) -> None:
    """Raise if the training split has fewer row groups than shards to deal them to."""
    shards = world_size * max(1, num_workers)
    if row_groups < shards:
        raise ValueError(
            f"the training split has {row_groups} row groups but needs at least {shards} "
            f"({world_size} processes x {max(1, num_workers)} loader workers): write it with "
            "smaller row groups (FeatureSettings.rows_per_row_group) or use fewer processes "
            "or loader workers"
        )


def rank_row_groups(groups: Sequence[RowGroup], rank: int, world_size: int) -> list[RowGroup]:
    """This rank's share of an evaluation split: balanced, file order, possibly empty."""
    share = assign_row_groups(groups, world_size)[rank]
    return sorted(share, key=groups.index)
